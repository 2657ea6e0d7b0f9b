import { afterAll, beforeAll, expect, test } from "bun:test";
import mqtt from "mqtt";
import { QuestDbTimeSeriesStore } from "../../lake/timeseries/questdb/questdb-time-series-store.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { type PrivateQuestDb, privateQuestDb } from "../../testkit/questdb-server.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * QuestDB going away holds the time-series sinks and nothing else: while a private QuestDB (its
 * own ports and data, so the shared server is left alone) is killed, the node goes on ingesting
 * and serving its live view, the sinks' lag grows and shows as blocked in /metrics, queries
 * answer 503; when QuestDB is back the sinks catch up and every reading is there exactly once.
 */
const SENSOR = "traffic_down1";
let questdb: PrivateQuestDb;
let node: RunningNode;
let cleanup: () => Promise<void>;
let client: mqtt.MqttClient;
const base = Math.floor((Date.now() - 600_000) / 1000) * 1000;

beforeAll(async () => {
  questdb = await privateQuestDb();
  ({ node, cleanup } = await startTestNode({
    questdbUrl: questdb.httpUrl,
    questdbPgUrl: questdb.pgUrl,
    commitIntervalMs: 100,
    timeseriesLingerMs: 50,
    windowMs: 60_000,
  }));
  client = await mqtt.connectAsync(node.mqttUrl);
}, 90_000);

afterAll(async () => {
  await client?.endAsync();
  await cleanup?.();
  await questdb?.dispose();
});

const publish = async (from: number, count: number) => {
  for (let i = from; i < from + count; i++)
    await client.publishAsync(
      `city/sensors/traffic/${SENSOR}`,
      JSON.stringify(trafficReading(SENSOR, base + i * 100, i)),
      {
        qos: 1,
      },
    );
};
const metric = async (name: string, sink: string) => {
  const text = await (await fetch(`${node.apiUrl}/metrics`)).text();
  const match = new RegExp(`^${name}\\{sink="${sink}"\\} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
};

test("a QuestDB outage holds the sinks, not the node, and nothing is lost", async () => {
  await publish(0, 50);
  const readings = () =>
    fetch(`${node.apiUrl}/api/timeseries/sensor_readings?sensor_id=${SENSOR}&limit=10000`).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { rows?: unknown[][] } }),
    );
  await eventually(readings, (answer) => answer.body.rows?.length === 50, 30_000);

  await questdb.stop();
  await publish(50, 100);
  // the node keeps ingesting and serving: the live view has the newest reading
  const latest = await eventually(
    () => node.view.latestReading(SENSOR)?.offset ?? -1,
    (offset) => offset >= 149,
  );
  expect(latest).toBeGreaterThanOrEqual(149);
  const blocked = await eventually(
    () => metric("platform_sink_blocked", "timeseries-readings"),
    (value) => value === 1,
    30_000,
  );
  expect(blocked).toBe(1);
  const lag = await eventually(
    () => metric("platform_sink_lag_records", "timeseries-readings"),
    (value) => value >= 100,
    30_000,
  );
  expect(lag).toBeGreaterThanOrEqual(100);
  expect(await metric("platform_sink_write_failures_total", "timeseries-readings")).toBeGreaterThan(0);
  const during = await readings();
  expect(during.status).toBe(503);
  expect(JSON.stringify(during.body)).not.toContain("127.0.0.1");

  await questdb.start();
  await eventually(
    () => metric("platform_sink_lag_records", "timeseries-readings"),
    (value) => value === 0,
    60_000,
  );
  const store = new QuestDbTimeSeriesStore({ httpUrl: questdb.httpUrl, pgUrl: questdb.pgUrl });
  try {
    await store.awaitApplied("sensor_readings");
  } finally {
    await store.close();
  }
  const after = await eventually(readings, (answer) => answer.body.rows?.length === 150, 30_000);
  const ts = after.body.rows!.map((r) => r[0] as number);
  expect(new Set(ts).size).toBe(150);
  expect(ts).toEqual([...Array(150).keys()].map((i) => base + i * 100));
}, 180_000);

test("a node starts while its QuestDB is down, answers 503 for its tables, and writes everything once QuestDB is up", async () => {
  const late = await privateQuestDb();
  try {
    await late.stop();
    const { node: second, cleanup: stopSecond } = await startTestNode({
      questdbUrl: late.httpUrl,
      questdbPgUrl: late.pgUrl,
      commitIntervalMs: 100,
      timeseriesLingerMs: 50,
    });
    try {
      const sensor = "traffic_late1";
      const c = await mqtt.connectAsync(second.mqttUrl);
      for (let i = 0; i < 30; i++)
        await c.publishAsync(
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, base + i * 100, i)),
          {
            qos: 1,
          },
        );
      await c.endAsync();
      const query = () =>
        fetch(`${second.apiUrl}/api/timeseries/sensor_readings?sensor_id=${sensor}`).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { rows?: unknown[][]; error?: { code: string } },
        }));
      await eventually(
        () => second.view.latestReading(sensor)?.offset ?? -1,
        (offset) => offset >= 29,
      );
      const down = await query();
      expect(down.status).toBe(503);
      expect(down.body.error?.code).toBe("INFRA_UNAVAILABLE");
      await late.start();
      const up = await eventually(query, (answer) => answer.body.rows?.length === 30, 60_000);
      expect(up.body.rows!.map((r) => r[0])).toEqual([...Array(30).keys()].map((i) => base + i * 100));
    } finally {
      await stopSecond();
    }
  } finally {
    await late.dispose();
  }
}, 180_000);
