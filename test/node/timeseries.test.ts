import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { RunningNode } from "../../node/start-node.ts";
import { seedTrafficChampion } from "../../testkit/seeded-champion.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A node keeps its history: silver readings, final windows and predictions reach the embedded
 * time-series store through their sinks, and the API answers "what did this sensor do".
 */
const WINDOW_MS = 10_000;

async function publish(node: RunningNode, sensor: string, times: readonly number[]): Promise<void> {
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (const [i, at] of times.entries())
    await client.publishAsync(
      `city/sensors/traffic/${sensor}`,
      JSON.stringify(trafficReading(sensor, at, 10 + i)),
      {
        qos: 1,
      },
    );
  await client.endAsync();
}

describe("a node's time-series history (embedded store)", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  const start = Math.floor((Date.now() - 120_000) / WINDOW_MS) * WINDOW_MS;
  const times = [...Array(20).keys()].map((i) => start + i * 1000);

  beforeAll(async () => {
    // the registry holds a champion (as after a first training): each closed window is forecast
    ({ node, cleanup } = await startTestNode(
      {
        windowMs: WINDOW_MS,
        commitIntervalMs: 100,
        timeseriesLingerMs: 50,
        models: "on",
      },
      (dir) => seedTrafficChampion(dir, WINDOW_MS),
    ));
    // two windows of readings, then one in a later window to close them
    await publish(node, "traffic_ts1", [...times, start + 3 * WINDOW_MS]);
  });
  afterAll(() => cleanup());

  const api = async (path: string) => {
    const response = await fetch(`${node.apiUrl}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test("every reading of a sensor is one row, queryable by sensor and time", async () => {
    const { body } = await eventually(
      () => api(`/api/timeseries/sensor_readings?sensor_id=traffic_ts1&from=${start}&to=${start + 20_000}`),
      (answer) => (answer.body.rows as unknown[] | undefined)?.length === 20,
      60_000,
    );
    const columns = body.columns as string[];
    const rows = body.rows as unknown[][];
    expect(rows.map((r) => r[columns.indexOf("ts")])).toEqual(times);
    expect(rows.map((r) => r[columns.indexOf("vehicle_count")])).toEqual(times.map((_, i) => 10 + i));
    expect(rows.every((r) => r[columns.indexOf("type")] === "traffic")).toBe(true);
  }, 90_000);

  test("the readings downsample by window: the sums match the node's own windows", async () => {
    const sampled = await api(
      `/api/timeseries/sensor_readings?sensor_id=traffic_ts1&from=${start}&to=${start + 20_000}&interval=10s&agg=sum`,
    );
    const columns = sampled.body.columns as string[];
    const sums = (sampled.body.rows as unknown[][]).map((r) => r[columns.indexOf("vehicle_count")]);
    const windows = await eventually(
      () => api(`/api/timeseries/sensor_windows?scope=sensor&key=traffic_ts1`),
      (answer) => (answer.body.rows as unknown[] | undefined)?.length === 2,
      60_000,
    );
    const windowColumns = windows.body.columns as string[];
    const windowRows = windows.body.rows as unknown[][];
    expect(windowRows.map((r) => r[windowColumns.indexOf("ts")])).toEqual([start, start + WINDOW_MS]);
    expect(windowRows.map((r) => r[windowColumns.indexOf("count")])).toEqual([10, 10]);
    const means = windowRows.map((r) => r[windowColumns.indexOf("vehicle_count_mean")] as number);
    expect(means.map((m) => m * 10)).toEqual(sums as number[]);
  }, 90_000);

  test("predictions are kept with their model, version and features", async () => {
    const { body } = await eventually(
      () => api(`/api/timeseries/predictions?key=traffic_ts1`),
      (answer) => (answer.body.rows as unknown[] | undefined)?.length === 2,
      60_000,
    );
    const columns = body.columns as string[];
    const first = (body.rows as unknown[][])[0]!;
    expect(node.modelVersion).toBe("1");
    expect(first[columns.indexOf("model_version")]).toBe("1");
    expect(JSON.parse(first[columns.indexOf("features")] as string)).toBeObject();
    expect(first[columns.indexOf("actual")]).toBeNull();
  }, 90_000);

  test("the sinks show in /metrics: rows written, lag, not blocked", async () => {
    const text = await eventually(
      async () => (await fetch(`${node.apiUrl}/metrics`)).text(),
      (t) => /platform_sink_rows_total\{sink="timeseries-readings"\} (2[1-9]|[3-9]\d)/.test(t),
      60_000,
    );
    expect(text).toMatch(/platform_sink_lag_records\{sink="timeseries-readings"\} \d+/);
    expect(text).toContain('platform_sink_blocked{sink="timeseries-windows"} 0');
  }, 90_000);
});
