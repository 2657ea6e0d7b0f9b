import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import mqtt from "mqtt";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A node started with DATA_ENCRYPTION_KEY: the sensor registry rows it publishes hold their
 * owner sealed in the log itself, and the node still reads them (its enrichment joins readings
 * with them, and they read back plain through the node's log).
 */
let node: RunningNode;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const before = process.env.DATA_ENCRYPTION_KEY;
  // the node's log reads the key at start only
  process.env.DATA_ENCRYPTION_KEY = randomBytes(32).toString("base64");
  try {
    ({ node, cleanup } = await startTestNode());
  } finally {
    if (before === undefined) delete process.env.DATA_ENCRYPTION_KEY;
    else process.env.DATA_ENCRYPTION_KEY = before;
  }
});
afterAll(async () => {
  await cleanup?.();
});

async function registryRows(log: Log): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  const partitions = (await log.partitions(Topics.sensorRegistry)) ?? 0;
  for (let partition = 0; partition < partitions; partition++)
    for (const r of await log.read(
      { topic: Topics.sensorRegistry, partition },
      { fromOffset: 0, maxRecords: 10_000 },
    ))
      if (r.key !== null && r.value !== null) rows.set(r.key, new TextDecoder().decode(r.value));
  return rows;
}

test("the registry's owners are ciphertext at rest and plain through the node's log", async () => {
  const sensor = node.fleet.sensors[0]!.sensor_id;
  const atRest = await openLog({ kind: "embedded", path: join(node.config.dataDir, "log.db") });
  try {
    const stored = (await registryRows(atRest)).get(sensor)!;
    expect(JSON.parse(stored).owner).toStartWith("enc:v1:");
    expect(JSON.parse(stored).district.length).toBeGreaterThan(0);
  } finally {
    await atRest.close();
  }
  const plain = JSON.parse((await registryRows(node.log)).get(sensor)!);
  expect(plain.owner).not.toStartWith("enc:");
  expect(plain.owner.length).toBeGreaterThan(0);
});

test("readings are still enriched from the sealed registry", async () => {
  const { sensor_id: sensor, type } = node.fleet.sensors.find((s) => s.type === "traffic")!;
  const client = await mqtt.connectAsync(node.mqttUrl, { reconnectPeriod: 0 });
  try {
    await client.publishAsync(
      `city/sensors/${type}/${sensor}`,
      JSON.stringify(trafficReading(sensor, Date.now())),
      {
        qos: 1,
      },
    );
  } finally {
    await client.endAsync();
  }
  const silver = await eventually(
    async () => {
      const found: { sensor_id: string; enrichment?: { district: string } | null }[] = [];
      const partitions = (await node.log.partitions(Topics.silver)) ?? 0;
      for (let partition = 0; partition < partitions; partition++)
        for (const r of await node.log.read(
          { topic: Topics.silver, partition },
          { fromOffset: 0, maxRecords: 10_000 },
        )) {
          const text = new TextDecoder().decode(r.value ?? new Uint8Array());
          const json = JSON.parse(text.slice(text.indexOf("{")));
          if (json.sensor_id === sensor) found.push(json);
        }
      return found;
    },
    (found) => found.length > 0,
  );
  expect(silver[0]?.enrichment?.district.length ?? 0).toBeGreaterThan(0);
});
