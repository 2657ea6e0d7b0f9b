import { afterAll, beforeAll, expect, test } from "bun:test";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * Bad readings on city.sensors.raw are read in the partition workers (engine/worker-reading.ts),
 * not on the main thread: each still becomes a dead letter on city.sensors.raw.dlq with its
 * code, its reason and its bytes, from the worker side, and the readings around it are windowed
 * and committed. Two Bun workers, as a node runs.
 */
let node: RunningNode;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({ workers: 2, commitIntervalMs: 200 }));
});
afterAll(() => cleanup());

const encoder = new TextEncoder();

async function lettersOn(topic: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (let partition = 0; partition < ((await node.log.partitions(topic)) ?? 0); partition++)
    for (const record of await node.log.read({ topic, partition }, { fromOffset: 0, maxRecords: 1_000 })) {
      const bytes = record.value ?? new Uint8Array(0);
      const json = bytes[0] === 0 ? payloadOf(bytes) : bytes;
      letters.push(JSON.parse(new TextDecoder().decode(json)) as DeadLetter);
    }
  return letters;
}

test("bad readings read in the workers are dead letters of city.sensors.raw with code, reason and bytes; the input is committed past them", async () => {
  const good = trafficReading("raw-dlq-good", Date.now());
  const bad = [
    { key: "raw-dlq-a", text: JSON.stringify({ ...good, sensor_id: "raw-dlq-a", vehicle_count: -1 }) },
    { key: "raw-dlq-b", text: '{"type":"traffic","sensor_id":' },
  ];
  const positions = await node.log.append([
    ...bad.map(({ key, text }) => ({ topic: Topics.sensorsRaw, key, value: encoder.encode(text) })),
    { topic: Topics.sensorsRaw, key: good.sensor_id, value: encoder.encode(JSON.stringify(good)) },
  ]);
  const letters = await eventually(
    () => lettersOn(Topics.deadLettersOf(Topics.sensorsRaw)),
    (found) => found.length >= bad.length,
    30_000,
  );
  const bySource = new Map(letters.map((letter) => [letter.source, letter]));
  for (const [i, { text }] of bad.entries()) {
    const { partition, offset } = positions[i]!;
    const letter = bySource.get(`log:${Topics.sensorsRaw}/${partition}@${offset}`);
    expect(letter).toBeDefined();
    expect(letter!.code).toBe(i === 0 ? ErrorCodes.SCHEMA_VIOLATION : ErrorCodes.MALFORMED_JSON);
    expect(letter!.reason.length).toBeGreaterThan(0);
    expect(Buffer.from(letter!.payload_base64, "base64").toString()).toBe(text);
  }
  // the good reading after them reaches its sensor, and every offset is committed
  const committed = await eventually(
    () => node.log.groupOffsets(node.config.applicationId, Topics.sensorsRaw),
    (offsets) => positions.every((p) => (offsets.get(p.partition) ?? 0) > p.offset),
    30_000,
  );
  for (const p of positions) expect(committed.get(p.partition)).toBeGreaterThan(p.offset);
  const latest = await eventually(
    async () => (await fetch(`${node.apiUrl}/api/sensors/${good.sensor_id}/readings/latest`)).status,
    (status) => status === 200,
    30_000,
  );
  expect(latest).toBe(200);
}, 90_000);
