import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiKeyStore, hashApiKey } from "../../../api/gateway/api-key-store.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { Topics } from "../../../messages/topics.ts";

let dir: string;
let log: Log;
const stores: ApiKeyStore[] = [];
const open = async () => {
  const store = await ApiKeyStore.open(log, { refreshMs: 20 });
  stores.push(store);
  return store;
};
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "api-keys-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a created key verifies with its role; the topic holds its hash, never the key", async () => {
  const store = await open();
  const { key, info } = await store.create("grafana", "viewer");
  expect(key).toMatch(/^smp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  expect(store.verify(key)).toEqual(info);
  const records = await log.read({ topic: Topics.apiKeys, partition: 0 });
  const text = new TextDecoder().decode(records[0]!.value!);
  expect(text).not.toContain(key.slice(17));
  expect(text).toContain(hashApiKey(key));
  expect(JSON.stringify(store.list())).not.toContain(hashApiKey(key));
});

test.each([
  ["empty", ""],
  ["another shape", "Bearer something"],
  ["a right id with a wrong secret", "WRONG_SECRET"],
  ["a truncated key", "TRUNCATED"],
])("%s does not verify", async (_name, presented) => {
  const store = await open();
  const { key } = await store.create("k", "admin");
  const candidate =
    presented === "WRONG_SECRET"
      ? `${key.slice(0, 17)}${"A".repeat(43)}`
      : presented === "TRUNCATED"
        ? key.slice(0, -1)
        : presented;
  expect(store.verify(candidate)).toBeUndefined();
});

test("a key created or revoked on one node reaches another node of the log", async () => {
  const one = await open();
  const other = await open();
  expect(other.hasActiveKeys()).toBe(false);
  const { key, info } = await one.create("shared", "operator");
  await other.refresh();
  expect(other.verify(key)?.role).toBe("operator");
  await other.revoke(info.id);
  expect(other.verify(key)).toBeUndefined();
  await one.refresh();
  expect(one.verify(key)).toBeUndefined();
  expect(one.list()[0]?.revoked_at).not.toBeNull();
  expect(one.hasActiveKeys()).toBe(false);
  // and from the log alone, as a restarted node reads it
  const restarted = await open();
  expect(restarted.verify(key)).toBeUndefined();
});

test("a record that is not a key is skipped and reported, and the rest still load", async () => {
  const store = await open();
  const { key } = await store.create("good", "viewer");
  const bad: number[] = [];
  await log.append([
    { topic: Topics.apiKeys, key: "x", value: new TextEncoder().encode("not json"), partition: 0 },
    { topic: Topics.apiKeys, key: "y", value: new TextEncoder().encode('{"id":"y"}'), partition: 0 },
  ]);
  const reader = await ApiKeyStore.open(log, { onInvalid: (offset) => bad.push(offset) });
  stores.push(reader);
  expect(bad).toEqual([1, 2]);
  expect(reader.verify(key)?.name).toBe("good");
});

test("revoking an unknown key is NOT_FOUND", async () => {
  const store = await open();
  await expect(store.revoke("0123456789ab")).rejects.toThrow(/NOT_FOUND/);
});

// regression: a loop of creates (a script gone wrong, a stolen admin key) grew the keys every node
// holds in memory and lists whole without an end (3,000 in 3 s while probing a node)
test("a create past the active-key limit is refused with OUT_OF_RANGE; a revoke makes room again", async () => {
  const store = await ApiKeyStore.open(log, { refreshMs: 20, maxActiveKeys: 3 });
  stores.push(store);
  const created = [];
  for (let i = 0; i < 3; i++) created.push(await store.create(`k${i}`, "viewer"));
  await expect(store.create("one too many", "viewer")).rejects.toMatchObject({
    code: ErrorCodes.OUT_OF_RANGE,
  });
  expect(store.list()).toHaveLength(3);
  await store.revoke(created[0]!.info.id);
  const again = await store.create("after a revoke", "viewer");
  expect(store.verify(again.key)?.name).toBe("after a revoke");
});
