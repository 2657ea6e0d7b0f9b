import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeltaTable } from "../../lake/delta/delta-table.ts";
import { openLakeTables } from "../../lake/tables/open-lake-tables.ts";
import { silverRow } from "../lake/tables/lake-rows.ts";

/** The `bun run lake` CLI, run as a process on a lake folder, as a user runs it. */
const REPO = join(import.meta.dir, "../..");
let lakeDir: string;
beforeAll(async () => {
  lakeDir = mkdtempSync(join(tmpdir(), "lake-cli-"));
  const silver = (await openLakeTables(lakeDir)).get("silver_sensor_readings") as DeltaTable;
  const t0 = Date.UTC(2026, 11, 1, 8);
  for (let batch = 0; batch < 3; batch++)
    await silver.append(
      Array.from({ length: 10 }, (_, i) => silverRow(batch * 10 + i, "traffic", t0 + i * 60_000)),
    );
});
afterAll(() => rmSync(lakeDir, { recursive: true, force: true }));

async function lake(...args: string[]) {
  const child = Bun.spawn(["bun", "bin/lake.ts", ...args], {
    cwd: REPO,
    env: { ...process.env, LAKE_DIR: lakeDir, DATA_DIR: "", KAFKA_BROKERS: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, code };
}

test("tables lists every table with its version and rows", async () => {
  const { stdout, code } = await lake("tables");
  expect(code).toBe(0);
  expect(stdout).toMatch(/silver_sensor_readings\s+silver v3\s+3 files\s+30 rows/);
});

test("query answers a SELECT, back in time with --versions", async () => {
  const now = await lake("query", "SELECT count(*) AS n FROM silver_sensor_readings");
  expect(now.stdout).toContain("30");
  const then = await lake(
    "query",
    "SELECT count(*) AS n FROM silver_sensor_readings",
    "--versions",
    "silver_sensor_readings=1",
  );
  expect(then.code).toBe(0);
  expect(then.stdout).toContain('"silver_sensor_readings":1');
  expect(then.stdout).toMatch(/│ 10 /);
});

test("a write through query is refused with its code and exit code 1", async () => {
  const { stderr, code } = await lake("query", "CREATE TABLE t AS SELECT 1");
  expect(code).toBe(1);
  expect(stderr).toContain("LAKE_QUERY_NOT_READ_ONLY");
});

test("optimize compacts, history shows it, and gold summarises silver", async () => {
  const optimized = await lake("optimize", "silver_sensor_readings");
  expect(optimized.stdout).toContain('"numFilesRemoved":3');
  const history = await lake("history", "silver_sensor_readings", "--limit", "1");
  expect(JSON.parse(history.stdout.trim()).operation).toBe("OPTIMIZE");
  const gold = await lake("gold");
  expect(gold.stdout).toContain('"rows":3');
});

test.each([
  [["nope"], "unknown command"],
  [["history", "no_such_table"], "no lake table"],
  [["query"], "give the SQL"],
  [["history", "silver_sensor_readings", "--limit", "x"], "whole number"],
])("%p is a usage error (exit code 2)", async (args, message) => {
  const { stderr, code } = await lake(...args);
  expect(code).toBe(2);
  expect(stderr).toContain(message);
});
