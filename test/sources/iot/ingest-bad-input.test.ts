import { afterAll, beforeAll, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { DeadLetter } from "../../../messages/dead-letter.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import type { SensorReading } from "../../../messages/sensor-reading.ts";
import { parseSensorMessage, sensorTopic } from "../../../sources/iot/ingest-parser.ts";
import { createPrng } from "../../../sources/iot/prng.ts";
import { createSensorFleet } from "../../../sources/iot/sensor-fleet.ts";
import { createAedesBroker } from "../../../sources/mqtt/aedes-broker.ts";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";
import { createMqttSubscriber, type MqttSubscriber } from "../../../sources/mqtt/mqtt-subscriber.ts";

/**
 * Issue 2, "Bad input": thousands of bad payloads mixed into a good stream, sent through a real
 * embedded broker and the subscriber adapter. Every good reading must arrive, and every bad one
 * must come out as a dead letter with the expected reason code.
 */
type BadCase = { topic: string; payload: Uint8Array; code: string };
const enc = (s: string) => new TextEncoder().encode(s);

function badFrom(
  good: SensorReading,
  kind: number,
  prng: ReturnType<typeof createPrng>,
  now: number,
): BadCase {
  const topic = sensorTopic(good.type, good.sensor_id);
  const json = JSON.stringify(good);
  const mutate = (over: Record<string, unknown>) => enc(JSON.stringify({ ...good, ...over }));
  const field =
    good.type === "traffic" ? "vehicle_count" : good.type === "environment" ? "humidity" : "voltage";
  switch (kind) {
    case 0:
      return {
        topic,
        payload: enc(json.slice(0, prng.int(1, json.length - 2))),
        code: ErrorCodes.MALFORMED_JSON,
      };
    case 1:
      return {
        topic,
        payload: enc(json.replace(/:(\d+(\.\d+)?)([,}])/, ":NaN$3")),
        code: ErrorCodes.MALFORMED_JSON,
      };
    case 2:
      return { topic, payload: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), code: ErrorCodes.MALFORMED_JSON };
    case 3:
      return {
        topic,
        payload: mutate({ [field]: String(prng.int(0, 9)) }),
        code: ErrorCodes.SCHEMA_VIOLATION,
      };
    case 4:
      return { topic, payload: mutate({ timestamp: undefined }), code: ErrorCodes.SCHEMA_VIOLATION };
    case 5:
      return {
        topic,
        payload: mutate({ [field]: prng.chance(0.5) ? "NaN" : "Infinity" }),
        code: ErrorCodes.SCHEMA_VIOLATION,
      };
    case 6:
      return {
        topic: sensorTopic(good.type, `${good.sensor_id}x`),
        payload: enc(json),
        code: ErrorCodes.SCHEMA_VIOLATION,
      };
    case 7:
      return { topic, payload: mutate({ [field]: -prng.int(1, 1000) }), code: ErrorCodes.OUT_OF_RANGE };
    case 8:
      return {
        topic,
        payload: mutate({ timestamp: new Date(now + 86_400_000).toISOString() }),
        code: ErrorCodes.OUT_OF_RANGE,
      };
    case 9:
      return {
        topic,
        payload: mutate({ padding: "x".repeat(66 * 1024) }),
        code: ErrorCodes.PAYLOAD_TOO_LARGE,
      };
    case 10:
      return {
        topic: `city/sensors/weather/${good.sensor_id}`,
        payload: enc(json),
        code: ErrorCodes.UNKNOWN_TOPIC,
      };
    default:
      return { topic: `${topic}/extra`, payload: enc(json), code: ErrorCodes.UNKNOWN_TOPIC };
  }
}

let broker: MqttBroker;
let subscriber: MqttSubscriber;
let publisher: MqttClient;
const accepted: SensorReading[] = [];
const deadLetters: DeadLetter[] = [];

beforeAll(async () => {
  broker = createAedesBroker();
  await broker.start();
  subscriber = createMqttSubscriber({
    url: broker.url(),
    qos: 1,
    maxBatch: 256,
    onBatch: (batch) => {
      const now = Date.now();
      for (const m of batch) {
        const result = parseSensorMessage(m.topic, m.payload, now);
        if (result.ok) accepted.push(result.reading);
        else deadLetters.push(result.deadLetter);
      }
    },
  });
  await subscriber.start();
  publisher = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 });
});

afterAll(async () => {
  await publisher.endAsync(true);
  await subscriber.stop();
  await broker.stop();
});

test("every good reading arrives and every bad payload becomes a dead letter with its reason", async () => {
  const now = Date.now();
  const fleet = createSensorFleet({ seed: 11, startTime: now - 3_600_000, faults: { dropoutRate: 0 } });
  const prng = createPrng(99);
  const good: SensorReading[] = [];
  const bad: BadCase[] = [];
  const sends: Promise<unknown>[] = [];
  const KINDS = 12;
  for (let tick = 0; tick < 200; tick++) {
    for (const reading of fleet.tick().readings) {
      good.push(reading);
      sends.push(
        publisher.publishAsync(sensorTopic(reading.type, reading.sensor_id), JSON.stringify(reading), {
          qos: 1,
        }),
      );
      // one bad payload per good one, each kind in turn, so bad and good interleave
      const b = badFrom(reading, bad.length % KINDS, prng, now);
      bad.push(b);
      sends.push(publisher.publishAsync(b.topic, Buffer.from(b.payload), { qos: 1 }));
    }
  }
  await Promise.all(sends);
  const total = good.length + bad.length;
  const deadline = Date.now() + 20_000;
  while (accepted.length + deadLetters.length < total && Date.now() < deadline) await Bun.sleep(10);

  expect(good.length).toBe(3000);
  expect(bad.length).toBe(3000);
  const key = (r: SensorReading) => `${r.sensor_id}@${r.timestamp}`;
  const arrived = new Map(accepted.map((r) => [key(r), r]));
  expect(accepted.length).toBe(good.length);
  for (const r of good) expect(arrived.get(key(r))).toEqual(r);

  const expected: Record<string, number> = {};
  for (const b of bad) expected[b.code] = (expected[b.code] ?? 0) + 1;
  const actual: Record<string, number> = {};
  for (const d of deadLetters) actual[d.code] = (actual[d.code] ?? 0) + 1;
  expect(actual).toEqual(expected);
  expect(Object.keys(actual).length).toBe(5);
  for (const d of deadLetters) {
    expect(d.reason.length).toBeGreaterThan(0);
    expect(d.source.startsWith("mqtt:city/sensors/")).toBe(true);
  }
});
