import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * The lake's sinks on a thread of their own (LAKE_SINKS=thread; not the default): the thread is
 * terminated while readings stream in and its sinks write; it is started again, its sinks
 * resume from their committed offsets and the tables' txn versions, and every reading is one row
 * of silver (none lost, none doubled), read through the main thread's query engine.
 */
const WINDOW_MS = 10_000;
const SENSORS = ["traffic_ls1", "traffic_ls2", "traffic_ls3"];
const PER_BURST = 60;

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

describe("the lake sinks' thread", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ node, cleanup } = await startTestNode({
      windowMs: WINDOW_MS,
      commitIntervalMs: 100,
      lake: "on",
      lakeSinks: "thread",
      lakeLingerMs: 30,
      lakeBatchSize: 40,
      lakeGoldEveryMs: 3_600_000,
    }));
  }, 60_000);
  afterAll(() => cleanup());

  const silver = async () => {
    const response = await fetch(`${node.apiUrl}/api/lake/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        sql: "SELECT count(*) AS n, count(DISTINCT reading_id) AS ids FROM silver_sensor_readings",
      }),
    });
    const row = ((await response.json()) as { rows?: { n: string; ids: string }[] }).rows?.[0];
    return { rows: Number(row?.n ?? -1), ids: Number(row?.ids ?? -1) };
  };

  test("a thread killed while its sinks write is restarted, and every reading is one silver row", async () => {
    await publish(node, 0);
    await eventually(silver, (s) => s.rows > 0, 30_000);
    const streaming = publish(node, 1);
    await Bun.sleep(30);
    node.killSinkThread("lake");
    await streaming;
    await publish(node, 2);
    const all = 3 * PER_BURST * SENSORS.length;
    const counts = await eventually(silver, (s) => s.rows >= all, 60_000);
    expect(counts).toEqual({ rows: all, ids: all });
    await eventually(
      async () => (await fetch(`${node.apiUrl}/metrics`)).text(),
      (t) => t.includes('platform_sink_lag_records{sink="lake-silver_sensor_readings"} 0'),
      30_000,
    );
    await Bun.sleep(500);
    expect(await silver()).toEqual({ rows: all, ids: all });
  }, 120_000);
});
