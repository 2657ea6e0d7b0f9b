import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DeltaTable } from "../../lake/delta/delta-table.ts";
import { lakeTable } from "../../lake/tables/catalogue.ts";
import { openLakeTables } from "../../lake/tables/open-lake-tables.ts";
import type { LogRecord } from "../../log/log.ts";
import type { WindowResult } from "../../messages/window-result.ts";

/** The `bun run features` CLI, run as a process on a node's data folder, as a user runs it. */
const REPO = join(import.meta.dir, "../..");
const NOW = Date.now();
const MIN = 60_000;
let dataDir: string;

const window = (sensor: string, end: number, speed: number): WindowResult => ({
  ...{ scope: "sensor", key: sensor, type: "traffic", window_start: end - MIN, window_end: end, count: 4 },
  fields: {
    vehicle_count: { count: 4, sum: 40, mean: 10, min: 5, max: 15 },
    avg_speed: { count: 4, sum: speed * 4, mean: speed, min: speed - 1, max: speed + 1 },
  },
  final: true,
  emitted_at: end + 5,
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "features-cli-"));
  const gold = lakeTable("gold_sensor_windows")!;
  const table = (await openLakeTables(join(dataDir, "lake"), {}, [gold])).get(gold.name)!;
  const record = {
    topic: "city.processed.traffic",
    partition: 0,
    offset: 0,
    key: null,
    value: null,
    timestamp: NOW,
    headers: [],
  } satisfies LogRecord;
  await table.append(
    [
      window("traffic_1", NOW - 30 * MIN, 40),
      window("traffic_1", NOW - 20 * MIN, 50),
      window("traffic_2", NOW - 25 * MIN, 60),
    ].flatMap((w) => gold.toRows!(w, record)),
  );
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  const at = (ms: number) => `make_timestamptz(${ms * 1000})`;
  await connection.run(`COPY (
      SELECT * FROM (VALUES ('traffic_1', ${at(NOW - 25 * MIN)}, 1), ('traffic_1', ${at(NOW - 10 * MIN)}, 0),
                            ('traffic_2', ${at(NOW - 26 * MIN)}, 1)) t(sensor_id, event_timestamp, label)
    ) TO '${join(dataDir, "frame.parquet")}' (FORMAT parquet)`);
  connection.closeSync();
  db.closeSync();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function features(...args: string[]) {
  const child = Bun.spawn(["bun", "bin/features.ts", ...args], {
    cwd: REPO,
    env: { ...process.env, DATA_DIR: dataDir, LAKE_DIR: "", KAFKA_BROKERS: "", REDIS_URL: "" },
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

test("list registers and shows the city's views", async () => {
  const { stdout, code } = await features("list", "--entity", "sensor_id");
  expect(code).toBe(0);
  expect(stdout).toContain("sensor_traffic_window");
  expect(stdout).not.toContain("district_traffic_hourly");
});

test("training-set joins point in time into parquet, with lineage and progress", async () => {
  const out = join(dataDir, "set.parquet");
  const { stdout, stderr, code } = await features(
    ...[
      "training-set",
      "--views",
      "sensor_traffic_window",
      "--entities",
      join(dataDir, "frame.parquet"),
      "--out",
      out,
    ],
  );
  expect(code).toBe(0);
  expect(stderr).toContain("point-in-time join 100%");
  const summary = JSON.parse(stdout) as { rows: number; lineage: { views: { tableVersion: number }[] } };
  expect(summary.rows).toBe(3);
  expect(summary.lineage.views[0]?.tableVersion).toBe(1);
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  const rows = (
    await connection.runAndReadAll(`SELECT sensor_id, label, avg_speed_mean FROM read_parquet('${out}')`)
  ).getRowObjectsJS();
  connection.closeSync();
  db.closeSync();
  // 25 min ago traffic_1 had only its 30-min-old window; 10 min ago its 20-min-old one; traffic_2's came after
  expect(rows).toEqual([
    { sensor_id: "traffic_1", label: 1, avg_speed_mean: 40 },
    { sensor_id: "traffic_1", label: 0, avg_speed_mean: 50 },
    { sensor_id: "traffic_2", label: 1, avg_speed_mean: null },
  ]);
});

test("training-set writes a Delta table when asked", async () => {
  const out = join(dataDir, "set-delta");
  const { code } = await features(
    ...[
      "training-set",
      "--views",
      "sensor_traffic_window",
      "--entities",
      join(dataDir, "frame.parquet"),
      "--out",
      out,
      "--format",
      "delta",
    ],
  );
  expect(code).toBe(0);
  const rows = await (await DeltaTable.open(out)).readRows();
  expect(rows.map((r) => r.avg_speed_mean)).toEqual([40, 50, null]);
});

test("materialize --incremental fills the online store; statistics are computed and stored", async () => {
  const materialized = await features("materialize", "sensor_traffic_window", "--incremental");
  expect(materialized.code).toBe(0);
  expect(JSON.parse(materialized.stdout)).toMatchObject({ rows: 2, tableVersion: 1 });
  const stats = await features("statistics", "sensor_traffic_window");
  expect(stats.code).toBe(0);
  const speed = (
    JSON.parse(stats.stdout) as { features: { feature: string; mean: number; count: number }[] }
  ).features.find((f) => f.feature === "avg_speed_mean");
  expect(speed).toMatchObject({ count: 3, mean: 50 });
});

const refusals: [string, string[], string][] = [
  ["an unknown view", ["statistics", "no_such_view"], "FEATURE_VIEW_NOT_FOUND"],
  [
    "an entity frame without the view's entity",
    ["training-set", "--views", "district_traffic_hourly", "--entities", "FRAME", "--out", "x.parquet"],
    "FEATURE_ENTITY_UNKNOWN",
  ],
  [
    "a range that ends before it starts",
    ["materialize", "sensor_traffic_window", "--from", "2026-01-02", "--to", "2026-01-01"],
    "OUT_OF_RANGE",
  ],
];
for (const [what, args, code] of refusals)
  test(`${what} exits 1 with ${code}`, async () => {
    const result = await features(...args.map((a) => (a === "FRAME" ? join(dataDir, "frame.parquet") : a)));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(code);
  });
