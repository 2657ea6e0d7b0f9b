import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { partitionFor } from "../../messages/murmur2.ts";
import { payloadOf, schemaIdOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { seedTrafficChampion } from "../../testkit/seeded-champion.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

const decoder = new TextDecoder();

async function readAll(node: RunningNode, topic: string) {
  const partitions = (await node.log.partitions(topic)) ?? 0;
  const all = [];
  for (let partition = 0; partition < partitions; partition++)
    all.push(...(await node.log.read({ topic, partition }, { maxRecords: 1_000_000 })));
  return all;
}

describe.each([
  ["on the main thread", 0],
  ["across two Bun workers", 2],
])("a node %s", (_name, workers) => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  let client: mqtt.MqttClient;
  const sensors = ["traffic_a", "traffic_b", "traffic_c"];
  const start = Date.now() - 10_000;
  const readingsPerSensor = 40;
  // a window closes when the partition's watermark (its latest event time; grace 0) reaches its
  // end, so every window that ends at or before the last reading is final
  const lastEventTime = start + (readingsPerSensor - 1) * 200;
  const closedPerSensor = Math.floor(lastEventTime / 1000) - Math.floor(start / 1000);

  beforeAll(async () => {
    // the registry holds a champion (as after a first training): every closed window is forecast
    ({ node, cleanup } = await startTestNode({ workers, models: "on" }, (dir) => seedTrafficChampion(dir)));
    client = await mqtt.connectAsync(node.mqttUrl);
    // 200 ms apart: 5 readings per 1-second window, so windows close and the model scores them
    for (let i = 0; i < readingsPerSensor; i++)
      for (const sensor of sensors)
        await client.publishAsync(
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, start + i * 200, 20 + i, 60 - i)),
          { qos: 1 },
        );
  });

  afterAll(async () => {
    await client?.endAsync();
    await cleanup?.();
  });

  test("answers /health with 200 once ready", async () => {
    const response = await fetch(`${node.apiUrl}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      checks: Record<string, { ok: boolean } | undefined>;
    };
    expect(body.status).toBe("ready");
    // the embedded log checkpoints its WAL on a thread, and /health says how that goes
    expect(body.checks.wal_checkpoints).toEqual(node.config.kafkaBrokers ? undefined : { ok: true });
  });

  test("processes every reading: each one reaches its sensor actor", async () => {
    const total = await eventually(
      () => node.view.sensorList().reduce((sum, s) => sum + s.readings, 0),
      (n) => n >= sensors.length * readingsPerSensor,
    );
    expect(total).toBe(sensors.length * readingsPerSensor);
  });

  test("writes final per-sensor windows to city.processed.traffic with exact aggregates", async () => {
    const records = await eventually(
      () => readAll(node, Topics.processed("traffic")),
      (r) => r.length >= sensors.length * closedPerSensor,
    );
    const windows = records
      .map(
        (r) =>
          JSON.parse(decoder.decode(payloadOf(r.value!))) as {
            scope: string;
            key: string;
            count: number;
            window_start: number;
            fields: { vehicle_count: { sum: number } };
          },
      )
      .filter((w) => w.scope === "sensor" && w.key === "traffic_a");
    expect(windows.length).toBe(closedPerSensor);
    // Confluent wire format: magic byte 0, then the id the registry gave the subject's schema
    const registered = (await (
      await fetch(`${node.apiUrl}/schema-registry/subjects/city.processed.traffic-value/versions/latest`)
    ).json()) as { id: number };
    expect(schemaIdOf(records[0]!.value!)).toBe(registered.id);
    for (const w of windows) {
      // readings i with start + 200 i in [window_start, window_start + 1000)
      const expected = Array.from({ length: readingsPerSensor }, (_, i) => i).filter(
        (i) => start + i * 200 >= w.window_start && start + i * 200 < w.window_start + 1000,
      );
      expect(w.count).toBe(expected.length);
      expect(w.fields.vehicle_count.sum).toBe(expected.reduce((sum, i) => sum + 20 + i, 0));
    }
  });

  test("forecasts each sensor's next window as a window closes, with the registry champion's version", async () => {
    const predictions = await eventually(
      () => node.view.recentPredictions(1000),
      (p) => p.length >= sensors.length * closedPerSensor,
    );
    expect(predictions.length).toBe(sensors.length * closedPerSensor);
    expect(node.modelVersion).toBe("1");
    const firstWindow = Math.floor(start / 1000) * 1000;
    for (const p of predictions) {
      expect(p.model).toBe("traffic-forecast");
      expect(p.model_version).toBe("1");
      // the forecast is for the window after a closed one
      expect(p.window_start).toBeGreaterThan(firstWindow);
      expect(p.window_end - p.window_start).toBe(1000);
      expect(Number.isFinite(p.value)).toBe(true);
      expect(p.features.vehicle_count_lag1).toBeGreaterThanOrEqual(20);
    }
    // the live view can show a forecast before its append to the log is answered: wait for it
    const logged = await eventually(
      () => readAll(node, Topics.predictions),
      (records) => records.length >= predictions.length - 10,
    );
    expect(logged.length).toBeGreaterThanOrEqual(predictions.length - 10);
  });

  test("serves sensors, windows and the supervision tree over REST, and metrics as Prometheus text", async () => {
    const sensorsBody = (await (await fetch(`${node.apiUrl}/api/sensors?type=traffic`)).json()) as {
      sensors: { sensor_id: string }[];
    };
    expect(sensorsBody.sensors.map((s) => s.sensor_id)).toEqual(sensors);
    const windowsBody = (await (await fetch(`${node.apiUrl}/api/sensors/traffic_a/windows`)).json()) as {
      windows: unknown[];
    };
    expect(windowsBody.windows.length).toBeGreaterThan(0);
    expect((await fetch(`${node.apiUrl}/api/sensors?type=bogus`)).status).toBe(400);
    const tree = (await (await fetch(`${node.apiUrl}/api/supervision`)).json()) as {
      tree: { main: { address: string } };
    };
    expect(tree.tree.main.address).toBe("root");
    const metrics = await (await fetch(`${node.apiUrl}/metrics`)).text();
    expect(metrics).toContain("platform_processing_latency_seconds_bucket");
    expect(metrics).toContain('platform_messages_total{topic="city.sensors.raw",direction="in"}');
  });

  test("joins each reading with the sensor registry: registered sensors get their district, others null", async () => {
    const registered = node.fleet.sensors.find((s) => s.type === "traffic")!;
    await client.publishAsync(
      `city/sensors/traffic/${registered.sensor_id}`,
      JSON.stringify(trafficReading(registered.sensor_id, Date.now())),
      { qos: 1 },
    );
    const reading = await eventually(
      () => node.view.latestReading(registered.sensor_id),
      (r) => r !== undefined,
    );
    expect(reading?.enrichment?.district).toBeString();
    expect(reading?.enrichment?.zone).toBe("arterial");
    expect(node.view.latestReading("traffic_a")?.enrichment).toBeNull();
  });

  test("sends readings that pass to the silver topic and the rest to quarantine with their issues", async () => {
    await client.publishAsync(
      "city/sensors/traffic/traffic_q",
      JSON.stringify(trafficReading("traffic_q", Date.now(), 0, 70)), // no vehicles at 70 km/h: suspect
      { qos: 1 },
    );
    await client.publishAsync(
      "city/sensors/traffic/traffic_q",
      JSON.stringify(trafficReading("traffic_q", Date.now() - 5000, 900, 10)), // 900 vehicles: out of range
      { qos: 1 },
    );
    const quarantined = await eventually(
      async () =>
        (await readAll(node, Topics.quarantine)).map(
          (r) =>
            JSON.parse(decoder.decode(payloadOf(r.value!))) as {
              sensor_id: string;
              issues: { rule: string }[];
            },
        ),
      (all) => all.some((r) => r.sensor_id === "traffic_q"),
    );
    const rules = quarantined
      .filter((r) => r.sensor_id === "traffic_q")
      .flatMap((r) => r.issues.map((i) => i.rule));
    expect(rules).toContain("range.vehicle_count");
    const silver = await readAll(node, Topics.silver);
    expect(silver.length).toBeGreaterThanOrEqual(sensors.length * readingsPerSensor - quarantined.length);
    const quality = (await (await fetch(`${node.apiUrl}/api/quality`)).json()) as {
      byWindow: { byType: { traffic: { score: number } } }[];
      ruleCounts: Record<string, number>;
      rules: unknown;
    };
    expect(quality.byWindow.length).toBeGreaterThan(0);
    expect(quality.byWindow[0]!.byType.traffic.score).toBeGreaterThan(0);
    expect(quality.ruleCounts["range.vehicle_count"]).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${node.apiUrl}/metrics`)).text();
    expect(metrics).toContain('platform_quality_issues_total{rule="range.vehicle_count",severity="error"}');
  });

  test("commits the input offsets once the outputs are durable", async () => {
    const committed = await eventually(
      async () => [...(await node.log.groupOffsets(node.config.applicationId, Topics.sensorsRaw)).values()],
      (offsets) => offsets.reduce((sum, o) => sum + o, 0) >= sensors.length * readingsPerSensor + 3,
    );
    expect(committed.reduce((sum, o) => sum + o, 0)).toBe(sensors.length * readingsPerSensor + 3);
  });
});

describe("a node announcing its partitions", () => {
  test("owns every partition when alone, and says which partition a key lives on", async () => {
    const { node, cleanup } = await startTestNode({ workers: 0 });
    try {
      const owners = await eventually(
        async () =>
          (
            (await (await fetch(`${node.apiUrl}/api/owners`)).json()) as {
              owners: { owner?: { api: string } }[];
            }
          ).owners,
        (all) => all.every((o) => o.owner !== undefined),
      );
      expect(owners).toHaveLength(node.config.partitions);
      expect(owners.every((o) => o.owner?.api === node.apiUrl)).toBe(true);
      const owner = (await (await fetch(`${node.apiUrl}/api/owner/traffic_1`)).json()) as {
        partition: number;
        local: boolean;
      };
      expect(owner.partition).toBe(partitionFor("traffic_1", node.config.partitions));
      expect(owner.local).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
