import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * The time-series sinks run on a thread of their own (TIMESERIES_SINKS=thread, the default):
 * a crash of that thread while its sinks write is supervised. The thread is terminated while
 * readings stream in; it is started again and its sinks resume from their committed offsets:
 * every reading is one row (none lost, none doubled), the sinks' lag comes back to 0, and
 * /metrics tells the sinks' state from the new thread.
 */
const WINDOW_MS = 10_000;
const SENSORS = ["traffic_st1", "traffic_st2", "traffic_st3"];
const PER_BURST = 100;

async function publish(node: RunningNode, burst: number): Promise<void> {
  const client = await mqtt.connectAsync(node.mqttUrl);
  const start = Math.floor((Date.now() - 600_000) / WINDOW_MS) * WINDOW_MS;
  for (const sensor of SENSORS)
    await Promise.all(
      [...Array(PER_BURST).keys()].map((i) =>
        client.publishAsync(
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, start + (burst * PER_BURST + i) * 100, 10 + i)),
          { qos: 1 },
        ),
      ),
    );
  await client.endAsync();
}

describe("the time-series sinks' thread", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ node, cleanup } = await startTestNode({
      windowMs: WINDOW_MS,
      commitIntervalMs: 100,
      timeseriesLingerMs: 20,
      timeseriesBatchSize: 40,
    }));
  });
  afterAll(() => cleanup());

  const rowsOf = async (sensor: string) => {
    const response = await fetch(
      `${node.apiUrl}/api/timeseries/sensor_readings?sensor_id=${sensor}&limit=10000`,
    );
    return ((await response.json()) as { rows?: unknown[][] }).rows ?? [];
  };
  const allRows = async () => (await Promise.all(SENSORS.map(rowsOf))).map((rows) => rows.length);
  const metrics = async () => (await fetch(`${node.apiUrl}/metrics`)).text();

  test("a thread killed while its sinks write is restarted, and every reading is one row", async () => {
    await publish(node, 0);
    // the first rows are in: the sinks run and commit
    await eventually(allRows, (counts) => counts.every((n) => n > 0), 30_000);
    // killed while the second burst streams in and is being written
    const streaming = publish(node, 1);
    await Bun.sleep(30);
    node.killSinkThread();
    await streaming;
    await publish(node, 2);
    const counts = await eventually(allRows, (c) => c.every((n) => n >= 3 * PER_BURST), 60_000);
    expect(counts).toEqual(SENSORS.map(() => 3 * PER_BURST));
    // the new thread's sinks committed up to the end of the topic and say so
    const text = await eventually(
      metrics,
      (t) =>
        t.includes('platform_sink_lag_records{sink="timeseries-readings"} 0') &&
        t.includes('platform_sink_blocked{sink="timeseries-readings"} 0'),
      30_000,
    );
    expect(text).toMatch(/platform_sink_rows_total\{sink="timeseries-readings"\} \d+/);
    // and nothing more arrives later: no row is written twice under another identity
    await Bun.sleep(500);
    expect(await allRows()).toEqual(SENSORS.map(() => 3 * PER_BURST));
  }, 120_000);
});
