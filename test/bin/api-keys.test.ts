import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiKeyStore } from "../../api/gateway/api-key-store.ts";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { type ApiUnderTest, startApi } from "../api/api-fixture.ts";

/** The `bun run keys` CLI, run as a process against a real server, as a user runs it. */
const ADMIN = `bootstrap-${"b".repeat(40)}`;
let dir: string;
let log: Log;
let keys: ApiKeyStore;
let api: ApiUnderTest;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keys-cli-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  keys = await ApiKeyStore.open(log);
  api = startApi({ gateway: { keys, bootstrapKey: ADMIN } });
});
afterAll(async () => {
  await api.stop();
  await keys.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

async function keysCli(args: string[], env: Record<string, string> = { ADMIN_API_KEY: ADMIN }) {
  const child = Bun.spawn(["bun", "bin/api-keys.ts", ...args, "--url", api.url], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { out, err, code };
}

test("creates a key shown once, lists it without its secret, and revokes it", async () => {
  const created = await keysCli(["create", "--name", "grafana", "--role", "viewer"]);
  expect(created.code).toBe(0);
  const key = /smp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(created.out)?.[0];
  expect(key).toBeDefined();
  const id = key!.slice(4, 16);
  expect(
    (await fetch(`${api.url}/api/v1/sensors`, { headers: { authorization: `Bearer ${key}` } })).status,
  ).toBe(200);

  const listed = await keysCli(["list"]);
  expect(listed.out).toContain(`${id}  viewer`);
  expect(listed.out).toContain("active");
  expect(listed.out).not.toContain(key!);

  const revoked = await keysCli(["revoke", id]);
  expect([revoked.code, revoked.out]).toEqual([0, expect.stringContaining("revoked")]);
  expect(
    (await fetch(`${api.url}/api/v1/sensors`, { headers: { authorization: `Bearer ${key}` } })).status,
  ).toBe(401);
});

test.each([
  ["no credential", ["list"], {}, /401 UNAUTHORIZED/],
  ["a wrong role", ["create", "--name", "x", "--role", "root"], { ADMIN_API_KEY: ADMIN }, /usage/],
  ["an unknown id", ["revoke", "0123456789ab"], { ADMIN_API_KEY: ADMIN }, /404 NOT_FOUND/],
  ["no command", [], { ADMIN_API_KEY: ADMIN }, /usage/],
] as const)("with %s it exits 1 with one clear line", async (_name, args, env, message) => {
  const run = await keysCli([...args], { ...env });
  expect(run.code).toBe(1);
  expect(run.err).toMatch(message);
  expect(run.err).not.toContain(ADMIN);
  expect(run.err).not.toMatch(/\n\s+at /);
});
