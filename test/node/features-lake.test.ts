import { afterAll, beforeAll, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import mqtt from "mqtt";
import { FeatureStore } from "../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../features/online/embedded-online-store.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A node with its lake and feature store on: the district hours the gold job builds are
 * materialized online on the node's schedule, and a training set joined from the node's lake at
 * the serving instant equals what the node serves online (parity on a running node).
 */
const WINDOW_MS = 10_000;
const SENSORS = ["traffic_1", "traffic_2"];
let node: RunningNode;
let cleanup: () => Promise<void>;
// an hour and a half ago: its hour is complete by the time the test asks
const start = Math.floor((Date.now() - 90 * 60_000) / WINDOW_MS) * WINDOW_MS;

interface Online {
  results?: { entity: string; status: string; eventTime: number | null; values: Record<string, unknown> }[];
}
const online = async (query: string) =>
  (await (await fetch(`${node.apiUrl}/api/features/online?${query}`)).json()) as Online;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({
    ...{ windowMs: WINDOW_MS, commitIntervalMs: 100, features: "on", featuresMaterializeEveryMs: 1000 },
    ...{ lake: "on", lakeLingerMs: 100, lakeBatchSize: 50, lakeGoldEveryMs: 1000 },
  }));
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (const sensor of SENSORS) {
    for (let i = 0; i < 25; i++)
      await client.publishAsync(
        `city/sensors/traffic/${sensor}`,
        JSON.stringify(trafficReading(sensor, start + i * 1000, 10 + i, 30 + (i % 7))),
        { qos: 1 },
      );
    await client.publishAsync(
      `city/sensors/traffic/${sensor}`,
      JSON.stringify(trafficReading(sensor, start + 6 * WINDOW_MS, 5)),
      {
        qos: 1,
      },
    );
  }
  await client.endAsync();
}, 60_000);
afterAll(() => cleanup());

test("district hours from the gold job are materialized online on the node's schedule", async () => {
  const found = await eventually(
    async () => {
      const names = (
        (await (
          await fetch(`${node.apiUrl}/api/lake/query`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              sql: "SELECT DISTINCT district FROM gold_district_hourly WHERE type = 'traffic'",
            }),
          })
        ).json()) as { rows?: { district: string }[] }
      ).rows?.map((r) => r.district);
      if (!names?.length) return undefined;
      return online(`view=district_traffic_hourly&entities=${names.map(encodeURIComponent).join(",")}`);
    },
    (answer) => answer?.results?.every((r) => r.status === "PRESENT") === true,
    45_000,
  );
  // asked only once gold has districts: asked first, silver could still be empty (a CI run saw 0 rows)
  const districts = (await (
    await fetch(`${node.apiUrl}/api/lake/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        sql: "SELECT DISTINCT district FROM silver_sensor_readings WHERE district IS NOT NULL",
      }),
    })
  ).json()) as { rows?: { district: string }[] };
  expect(districts.rows?.length).toBeGreaterThan(0);
  expect(found?.results?.length).toBeGreaterThan(0);
  expect(found?.results?.every((r) => r.status === "PRESENT" && typeof r.values.readings === "number")).toBe(
    true,
  );
}, 60_000);

test("a training set from the node's lake at the serving instant equals the online values", async () => {
  const served = await eventually(
    () => online(`view=sensor_traffic_window&entities=${SENSORS.join(",")}`),
    // event time is a window's end: the third window (readings 20-24 s) is the last to close, as the
    // reading at 60 s moves the watermark past it but not past its own window
    (a) => a.results?.every((r) => r.eventTime === start + 3 * WINDOW_MS) === true,
    30_000,
  );
  const store = await FeatureStore.open({
    log: node.log,
    lakeDir: resolve(join(node.config.dataDir, "lake")),
    online: new EmbeddedOnlineStore(":memory:"),
  });
  const now = Date.now();
  const offline = await eventually(
    () =>
      store.trainingSet({
        views: ["sensor_traffic_window"],
        entities: { rows: SENSORS.map((sensor_id) => ({ sensor_id, event_timestamp: now })) },
      }),
    (set) => set.rows?.every((r) => r.reading_count !== null) === true,
    30_000,
  );
  await store.close();
  for (const [i, result] of (served.results ?? []).entries()) {
    const { sensor_id: _, event_timestamp: __, ...joined } = offline.rows![i]!;
    expect(result.values).toEqual(joined);
  }
  expect(offline.lineage.views[0]?.tableVersion).toBeGreaterThan(0);
}, 90_000);
