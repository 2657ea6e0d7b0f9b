import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { lakeRoutes } from "../../../api/lake/routes.ts";
import type { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { LakeMaintenance } from "../../../lake/maintenance/lake-maintenance.ts";
import { LakeQueryEngine } from "../../../lake/query/lake-query-engine.ts";
import { LAKE_TABLES } from "../../../lake/tables/catalogue.ts";
import { GOLD_VIEWS } from "../../../lake/tables/gold.ts";
import { openLakeTables } from "../../../lake/tables/open-lake-tables.ts";
import { silverRow } from "../../lake/tables/lake-rows.ts";

/** /api/lake's boundary: answers, and a clear code for every kind of bad request. */
let dir: string;
let app: Hono;
let engine: LakeQueryEngine;
let maintenance: LakeMaintenance;
const internal: unknown[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lake-routes-"));
  const tables = await openLakeTables(dir);
  const silver = tables.get("silver_sensor_readings") as DeltaTable;
  const t0 = Date.UTC(2026, 11, 1, 8);
  await silver.append(Array.from({ length: 12 }, (_, i) => silverRow(i, "traffic", t0 + i * 60_000)));
  await silver.append(Array.from({ length: 6 }, (_, i) => silverRow(100 + i, "utility", t0 + i * 60_000)));
  engine = await LakeQueryEngine.open({ lakeDir: dir, tables: () => tables, views: GOLD_VIEWS });
  maintenance = new LakeMaintenance({
    tables,
    defaults: { optimizeEveryMs: undefined, vacuumEveryMs: undefined },
    vacuumRetentionHours: 168,
    onError: () => undefined,
  });
  app = lakeRoutes({
    catalogue: LAKE_TABLES,
    views: GOLD_VIEWS,
    tables,
    engine,
    maintenance,
    onInternalError: (error) => internal.push(error),
  });
});
afterAll(async () => {
  await maintenance.stop();
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(path: string, init?: RequestInit) {
  const response = await app.request(path, init);
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}
const post = (path: string, body: unknown, type = "application/json") =>
  call(path, {
    method: "POST",
    headers: { "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("the lake's routes", () => {
  test("GET /tables lists every table of the catalogue with its size, and the views", async () => {
    const { status, body } = await call("/tables");
    expect(status).toBe(200);
    const silver = (body.tables as Record<string, unknown>[]).find(
      (t) => t.name === "silver_sensor_readings",
    );
    expect(silver).toMatchObject({ layer: "silver", version: 2, rows: 18, topics: ["city.sensors.silver"] });
    expect((body.views as { name: string }[]).map((v) => v.name)).toEqual(["gold_prediction_outcomes"]);
  });

  test("GET /tables/:name describes a snapshot: schema, partitions, a page of files; also back in time", async () => {
    const { body } = await call("/tables/silver_sensor_readings?limit=1");
    expect(body.version).toBe(2);
    expect((body.schema as { name: string }[]).map((f) => f.name)).toContain("vehicle_count");
    expect(body.partitions).toEqual([
      { values: { date: "2026-12-01", type: "traffic" }, files: 1, rows: 12, bytes: expect.any(Number) },
      { values: { date: "2026-12-01", type: "utility" }, files: 1, rows: 6, bytes: expect.any(Number) },
    ]);
    expect(body.page).toEqual({ limit: 1, offset: 0, total: 2, next_offset: 1 });
    const old = await call("/tables/silver_sensor_readings?version=1");
    expect(old.body).toMatchObject({ version: 1, page: { total: 1 } });
  });

  test("GET /tables/:name/history lists the commits, newest first", async () => {
    const { body } = await call("/tables/silver_sensor_readings/history?limit=2");
    expect((body.history as { version: number }[]).map((h) => h.version)).toEqual([2, 1]);
  });

  test("POST /query answers rows and the versions it read", async () => {
    const { status, body } = await post("/query", {
      sql: "SELECT type, count(*) AS n FROM silver_sensor_readings GROUP BY type ORDER BY type",
      versions: { silver_sensor_readings: 1 },
    });
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ type: "traffic", n: "12" }]);
    expect(body.versions).toEqual({ silver_sensor_readings: 1 });
  });

  test("POST /query?fields=&format=csv shapes the rows like the other tabular routes", async () => {
    const sql = "SELECT type, count(*) AS n FROM silver_sensor_readings GROUP BY type ORDER BY type";
    const picked = await post("/query?fields=n", { sql, versions: { silver_sensor_readings: 1 } });
    expect(picked.body.rows).toEqual([{ n: "12" }]);
    expect((picked.body.columns as { name: string }[]).map((col) => col.name)).toEqual(["n"]);
    const csv = await app.request("/query?format=csv", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql, versions: { silver_sensor_readings: 1 } }),
    });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(await csv.text()).toBe("type,n\r\ntraffic,12\r\n");
  });

  test("POST /tables/:name/optimize compacts and answers what it did", async () => {
    const { status, body } = await post("/tables/silver_sensor_readings/optimize", "");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      table: "silver_sensor_readings",
      task: "optimize",
      result: { numFilesRemoved: 0 },
    });
  });

  test.each([
    ["an unknown table", () => call("/tables/nope"), 404, "LAKE_TABLE_UNKNOWN"],
    ["an unknown table's history", () => call("/tables/nope/history"), 404, "LAKE_TABLE_UNKNOWN"],
    ["optimize of an unknown table", () => post("/tables/nope/optimize", ""), 404, "LAKE_TABLE_UNKNOWN"],
    [
      "a version that is no number",
      () => call("/tables/silver_sensor_readings?version=abc"),
      400,
      "BAD_REQUEST",
    ],
    [
      "version and asOf together",
      () => call("/tables/silver_sensor_readings?version=1&asOf=5"),
      400,
      "BAD_REQUEST",
    ],
    [
      "a version the table lacks",
      () => call("/tables/silver_sensor_readings?version=99"),
      404,
      "DELTA_VERSION_NOT_FOUND",
    ],
    [
      "a time before the table",
      () => call("/tables/silver_sensor_readings?asOf=1"),
      404,
      "DELTA_VERSION_NOT_FOUND",
    ],
    [
      "a history limit past the maximum",
      () => call("/tables/silver_sensor_readings/history?limit=5000"),
      400,
      "BAD_REQUEST",
    ],
    [
      "a query as text/plain",
      () => post("/query", { sql: "SELECT 1" }, "text/plain"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    ["a body that is no JSON", () => post("/query", "{sql:"), 400, "MALFORMED_JSON"],
    ["a JSON array", () => post("/query", [1]), 400, "BAD_REQUEST"],
    ["sql that is no string", () => post("/query", { sql: 42 }), 400, "BAD_REQUEST"],
    ["an unknown field", () => post("/query", { sql: "SELECT 1", database: "x" }), 400, "BAD_REQUEST"],
    ["versions as a list", () => post("/query", { sql: "SELECT 1", versions: [1] }), 400, "BAD_REQUEST"],
    ["a limit as text", () => post("/query", { sql: "SELECT 1", limit: "10" }), 400, "BAD_REQUEST"],
    ["a write", () => post("/query", { sql: "CREATE TABLE t AS SELECT 1" }), 403, "LAKE_QUERY_NOT_READ_ONLY"],
    [
      "a file outside the lake",
      () => post("/query", { sql: "SELECT * FROM read_text('/etc/hostname')" }),
      403,
      "LAKE_QUERY_NOT_READ_ONLY",
    ],
    [
      "a SQL error",
      () => post("/query", { sql: "SELECT nope FROM silver_sensor_readings" }),
      400,
      "LAKE_QUERY_INVALID",
    ],
    [
      "a slow query",
      () => post("/query", { sql: "SELECT count(*) FROM range(100000000000)", timeoutMs: 100 }),
      504,
      "LAKE_QUERY_TIMEOUT",
    ],
  ] as const)("%s answers its status and code", async (_name, request, status, code) => {
    const answer = await request();
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(String((answer.body.error as { message: string }).message)).not.toContain(dir);
    expect(String((answer.body.error as { message: string }).message)).not.toMatch(/\n\s+at /);
  });

  test("nothing above reached the node's log as an internal error", () => {
    expect(internal).toEqual([]);
  });
});
