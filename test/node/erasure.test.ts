import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { lakeTable, tableDir } from "../../lake/tables/catalogue.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { readWithDeltaRs } from "../../testkit/delta-rs.ts";
import { lakeDirOf } from "../../testkit/lake-audit.ts";
import { type PrivateQuestDb, privateQuestDb } from "../../testkit/questdb-server.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A deletion request on a whole node: readings of two sensors flow into QuestDB (a private real
 * server), the lake and the online feature store; POST /api/v1/admin/erasures for one of them;
 * afterwards no store returns a row of it, the other sensor's rows are all there, and the audit
 * trail shows the request received and done with each store's result.
 */
const WINDOW_MS = 10_000;
const ERASED = "traffic_er1";
const KEPT = "traffic_er2";
const READINGS = 20;

describe("a deletion request on a node", () => {
  let questdb: PrivateQuestDb;
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  let dataDir: string;
  const start = Math.floor((Date.now() - 600_000) / WINDOW_MS) * WINDOW_MS;

  const call = async (path: string, body?: unknown) => {
    const response = await fetch(`${node.apiUrl}${path}`, {
      ...(body === undefined
        ? {}
        : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const lakeCount = async (table: string, where: string) =>
    Number(
      (
        (await call("/api/v1/lake/query", { sql: `SELECT count(*) AS n FROM ${table} WHERE ${where}` })).body
          .rows as { n: string }[] | undefined
      )?.[0]?.n ?? -1,
    );
  const seriesRows = async (sensor: string) =>
    ((await call(`/api/v1/timeseries/sensor_readings?sensor_id=${sensor}&limit=1000`)).body.rows as
      | unknown[]
      | undefined) ?? [];
  const windowRows = async (sensor: string) =>
    ((await call(`/api/v1/timeseries/sensor_windows?scope=sensor&key=${sensor}&limit=1000`)).body.rows as
      | unknown[]
      | undefined) ?? [];
  const online = async () =>
    (
      (await call(`/api/v1/features/online?view=sensor_traffic_window&entities=${ERASED},${KEPT}`)).body
        .results as { entity: string; status: string }[]
    ).map((r) => [r.entity, r.status]);

  beforeAll(async () => {
    questdb = await privateQuestDb();
    await questdb.start();
    ({ node, cleanup } = await startTestNode({
      windowMs: WINDOW_MS,
      commitIntervalMs: 100,
      lake: "on",
      features: "on",
      questdbUrl: questdb.httpUrl,
      questdbPgUrl: questdb.pgUrl,
    }));
    dataDir = node.config.dataDir;
    const client = await mqtt.connectAsync(node.mqttUrl);
    for (const sensor of [ERASED, KEPT]) {
      for (let i = 0; i < READINGS; i++)
        await client.publishAsync(
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, start + i * 1000, 10 + i, 30)),
          { qos: 1 },
        );
      // closes the sensor's first two windows
      await client.publishAsync(
        `city/sensors/traffic/${sensor}`,
        JSON.stringify(trafficReading(sensor, start + 5 * WINDOW_MS, 5)),
        { qos: 1 },
      );
    }
    await client.endAsync();
  }, 120_000);
  afterAll(async () => {
    await cleanup?.();
    await questdb?.dispose();
  });

  test("no store returns a row of the sensor afterwards, the other sensor keeps all of its, and the audit shows each store", async () => {
    // every store holds both sensors' data before the request: nothing of theirs is still on its way
    for (const sensor of [ERASED, KEPT]) {
      await eventually(
        () => seriesRows(sensor),
        (rows) => rows.length === READINGS + 1,
        60_000,
      );
      await eventually(
        () => windowRows(sensor),
        (rows) => rows.length >= 2,
        60_000,
      );
      for (const table of ["bronze_sensor_readings", "silver_sensor_readings"])
        await eventually(
          () => lakeCount(table, `sensor_id = '${sensor}'`),
          (n) => n === READINGS + 1,
          60_000,
        );
      await eventually(
        () => lakeCount("gold_sensor_windows", `scope = 'sensor' AND key = '${sensor}'`),
        (n) => n >= 2,
        60_000,
      );
    }
    await eventually(online, (rows) => rows.every(([, status]) => status === "PRESENT"), 60_000);

    const answer = await call("/api/v1/admin/erasures", { kind: "sensor", id: ERASED });
    expect(answer.status).toBe(200);
    const report = answer.body as {
      complete: boolean;
      outcomes: { store: string; status: string; items: number; detail?: string }[];
    };
    expect(report.complete).toBe(true);
    const erasedIn = (store: string) =>
      report.outcomes
        .filter((o) => o.store === store && o.status === "erased")
        .reduce((n, o) => n + o.items, 0);
    expect(erasedIn("timeseries:questdb")).toBeGreaterThanOrEqual(READINGS + 1 + 2);
    expect(erasedIn("lake")).toBeGreaterThanOrEqual(2 * (READINGS + 1) + 2);
    expect(erasedIn("online-features:embedded")).toBeGreaterThanOrEqual(1);
    expect(erasedIn("log")).toBeGreaterThanOrEqual(1);
    expect(report.outcomes.find((o) => o.store === "models")?.status).toBe("not-applicable");
    // the raw topics cannot lose one key's records: they expire, and the report says when
    expect(report.outcomes.some((o) => o.store === "log" && o.status === "expires")).toBe(true);

    // QuestDB
    expect(await seriesRows(ERASED)).toEqual([]);
    expect(await windowRows(ERASED)).toEqual([]);
    expect((await seriesRows(KEPT)).length).toBe(READINGS + 1);
    // the lake, through the node's SQL and through delta-rs, the reference reader
    for (const table of ["bronze_sensor_readings", "silver_sensor_readings"]) {
      expect(await lakeCount(table, `sensor_id = '${ERASED}'`)).toBe(0);
      expect(await lakeCount(table, `sensor_id = '${KEPT}'`)).toBe(READINGS + 1);
    }
    expect(await lakeCount("gold_sensor_windows", `scope = 'sensor' AND key = '${ERASED}'`)).toBe(0);
    const silver = await readWithDeltaRs(tableDir(lakeDirOf(dataDir), lakeTable("silver_sensor_readings")!));
    expect(silver.rows.filter((r) => r.sensor_id === ERASED)).toEqual([]);
    expect(silver.rows.filter((r) => r.sensor_id === KEPT).length).toBe(READINGS + 1);
    // the online store
    expect(await online()).toEqual([
      [ERASED, "NOT_FOUND"],
      [KEPT, "PRESENT"],
    ]);

    // the audit trail: received, then done with every store's result
    const audit = (await call("/api/v1/audit?limit=50")).body.audit as {
      method: string;
      status: number;
      via: string | null;
    }[];
    const erasures = audit.filter((r) => r.method === "ERASE");
    expect(erasures.map((r) => r.status)).toEqual([200, 202]);
    for (const store of [
      "log:",
      "timeseries:questdb:erased",
      "lake:erased",
      "online-features:embedded:erased",
      "models:",
    ])
      expect(erasures[0]?.via).toContain(store);
  }, 240_000);

  test("a request the route cannot take is a clear 400", async () => {
    for (const body of [{ kind: "planet", id: "x" }, { kind: "sensor", id: "a b" }, { kind: "sensor" }]) {
      const answer = await call("/api/v1/admin/erasures", body);
      expect(answer.status).toBe(400);
      expect((answer.body.error as { code: string }).code).toBe("BAD_REQUEST");
    }
  });
});

describe("a deletion request on a node without the lake and the feature store", () => {
  test("names every store in the report, the rooms that are off as not applicable", async () => {
    const { node, cleanup } = await startTestNode({ lake: "off", features: "off" });
    try {
      const response = await fetch(`${node.apiUrl}/api/v1/admin/erasures`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "sensor", id: "traffic_none" }),
      });
      expect(response.status).toBe(200);
      const report = (await response.json()) as { outcomes: { store: string; status: string }[] };
      const stores = new Map<string, string[]>();
      for (const o of report.outcomes) stores.set(o.store, [...(stores.get(o.store) ?? []), o.status]);
      expect([...stores.keys()].sort()).toEqual([
        "lake",
        "log",
        "models",
        "online-features",
        "timeseries:embedded",
      ]);
      expect(stores.get("lake")).toEqual(["not-applicable"]);
      expect(stores.get("online-features")).toEqual(["not-applicable"]);
      expect(stores.get("timeseries:embedded")).toEqual(["not-found", "not-found", "not-found"]);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
