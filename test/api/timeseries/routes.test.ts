import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { timeSeriesRoutes } from "../../../api/timeseries/routes.ts";
import { SqliteTimeSeriesStore } from "../../../lake/timeseries/embedded/sqlite-time-series-store.ts";
import type { TableDefinition, TimeSeriesStore } from "../../../lake/timeseries/time-series-store.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";

const T0 = Date.UTC(2026, 2, 3);
const table: TableDefinition = {
  name: "sensor_readings",
  timestamp: "ts",
  columns: [
    { name: "sensor_id", type: "symbol" },
    { name: "district", type: "symbol" },
    { name: "vehicle_count", type: "double" },
  ],
  dedupKeys: ["sensor_id"],
  ttlDays: 30,
};

describe("GET /api/timeseries", () => {
  let store: SqliteTimeSeriesStore;
  let app: Hono;
  const get = async (path: string) => {
    const response = await app.request(path);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    store = new SqliteTimeSeriesStore({ path: ":memory:" });
    await store.ensureTable(table);
    const rows = [];
    for (let i = 0; i < 120; i++) {
      rows.push({ ts: T0 + i * 1000, sensor_id: "traffic_12", district: "north", vehicle_count: i });
      rows.push({ ts: T0 + i * 1000, sensor_id: "traffic_13", district: "south", vehicle_count: 1000 + i });
    }
    await store.write(table, rows);
    app = new Hono().route("/api/timeseries", timeSeriesRoutes({ store, tables: [table] }));
  });
  afterAll(() => store.close());

  test("lists the tables with their columns and filters", async () => {
    const { status, body } = await get("/api/timeseries");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      store: "embedded",
      tables: [{ name: "sensor_readings", filters: ["sensor_id", "district"], ttlDays: 30 }],
    });
  });

  test("fields= keeps those columns and format=csv answers the rows as CSV (neither is taken for a filter)", async () => {
    const path = `/api/timeseries/sensor_readings?sensor_id=traffic_12&limit=2&fields=ts,vehicle_count`;
    const { status, body } = await get(path);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      columns: ["ts", "vehicle_count"],
      rows: [
        [T0, 0],
        [T0 + 1000, 1],
      ],
      truncated: true,
    });
    const csv = await app.request(`${path}&format=csv`);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("x-truncated")).toBe("true");
    expect(await csv.text()).toBe(`ts,vehicle_count\r\n${T0},0\r\n${T0 + 1000},1\r\n`);
    const bad = await get("/api/timeseries/sensor_readings?format=xml");
    expect(bad.status).toBe(400);
  });

  test("what one sensor did, downsampled by minute", async () => {
    const { status, body } = await get(
      `/api/timeseries/sensor_readings?sensor_id=traffic_12&from=${new Date(T0).toISOString()}&to=${T0 + 120_000}&interval=1m&agg=avg`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      table: "sensor_readings",
      interval: "1m",
      agg: "avg",
      columns: ["ts", "vehicle_count"],
      rows: [
        [T0, 29.5],
        [T0 + 60_000, 89.5],
      ],
      truncated: false,
    });
  });

  test("raw rows are bounded by the limit, and truncated says there were more", async () => {
    const { body } = await get("/api/timeseries/sensor_readings?district=south&limit=3");
    expect(body.rows).toEqual([
      [T0, "traffic_13", "south", 1000],
      [T0 + 1000, "traffic_13", "south", 1001],
      [T0 + 2000, "traffic_13", "south", 1002],
    ]);
    expect(body.truncated).toBe(true);
  });

  const refused: [string, string, number, string][] = [
    ["an unknown table", "/api/timeseries/nope", 404, ErrorCodes.NOT_FOUND],
    ["a malformed interval", "/api/timeseries/sensor_readings?interval=5x", 400, ErrorCodes.BAD_REQUEST],
    [
      "an interval that does not divide a day",
      "/api/timeseries/sensor_readings?interval=7s",
      400,
      ErrorCodes.BAD_REQUEST,
    ],
    [
      "an unknown aggregation",
      "/api/timeseries/sensor_readings?interval=1m&agg=median",
      400,
      ErrorCodes.BAD_REQUEST,
    ],
    ["agg without an interval", "/api/timeseries/sensor_readings?agg=avg", 400, ErrorCodes.BAD_REQUEST],
    [
      "a filter on a measurement",
      "/api/timeseries/sensor_readings?vehicle_count=3",
      400,
      ErrorCodes.BAD_REQUEST,
    ],
    ["a filter on no column", "/api/timeseries/sensor_readings?x%27%3Bdrop=1", 400, ErrorCodes.BAD_REQUEST],
    [
      "a filter given twice",
      "/api/timeseries/sensor_readings?sensor_id=a&sensor_id=b",
      400,
      ErrorCodes.BAD_REQUEST,
    ],
    ["a limit past the cap", "/api/timeseries/sensor_readings?limit=10001", 400, ErrorCodes.BAD_REQUEST],
    ["a limit that is no number", "/api/timeseries/sensor_readings?limit=ten", 400, ErrorCodes.BAD_REQUEST],
    ["a from that is no time", "/api/timeseries/sensor_readings?from=yesterday", 400, ErrorCodes.BAD_REQUEST],
    ["from after to", "/api/timeseries/sensor_readings?from=10&to=5", 400, ErrorCodes.BAD_REQUEST],
  ];
  for (const [name, path, status, code] of refused)
    test(`${name} is ${status} ${code}`, async () => {
      const answer = await get(path);
      expect(answer.status).toBe(status);
      expect((answer.body.error as { code: string }).code).toBe(code);
      expect(typeof (answer.body.error as { message: string }).message).toBe("string");
    });

  test("a table the node defines but the store has not created yet (the store was down since start) is 503", async () => {
    const fresh = new SqliteTimeSeriesStore({ path: ":memory:" });
    const freshApp = new Hono().route("/api/timeseries", timeSeriesRoutes({ store: fresh, tables: [table] }));
    const response = await freshApp.request("/api/timeseries/sensor_readings");
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      ErrorCodes.INFRA_UNAVAILABLE,
    );
    await fresh.close();
  });

  test("a store that is down is 503 without its internals", async () => {
    const down: TimeSeriesStore = {
      kind: "questdb",
      ensureTable: async () => {},
      write: async () => {},
      deleteRows: async () => 0,
      dropTable: async () => {},
      close: async () => {},
      query: () =>
        Promise.reject(
          new PlatformError(
            ErrorCodes.INFRA_UNAVAILABLE,
            "QuestDB at 10.0.0.7:9000: a QuestDB statement failed",
          ),
        ),
    };
    const downApp = new Hono().route("/api/timeseries", timeSeriesRoutes({ store: down, tables: [table] }));
    const response = await downApp.request("/api/timeseries/sensor_readings");
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toContain("10.0.0.7");
    expect(JSON.parse(text).error.code).toBe(ErrorCodes.INFRA_UNAVAILABLE);
  });
});
