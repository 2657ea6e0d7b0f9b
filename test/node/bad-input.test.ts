import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * The bad-input test, through the whole node: thousands of bad payloads of every kind
 * mixed into a good stream over a real (embedded) MQTT broker. Every good reading must reach
 * its sensor actor; every bad one must be a dead letter with its reason; the node keeps running.
 */
const GOOD = 1500;
const now = Date.now();

const BAD_KINDS: readonly { code: string; topic: string; payload: string | Buffer }[] = [
  { code: "MALFORMED_JSON", topic: "city/sensors/traffic/bad_json", payload: "{not json" },
  {
    code: "MALFORMED_JSON",
    topic: "city/sensors/traffic/bad_utf8",
    payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  },
  {
    code: "SCHEMA_VIOLATION",
    topic: "city/sensors/traffic/wrong_type",
    payload: JSON.stringify({ ...trafficReading("wrong_type", now), vehicle_count: "many" }),
  },
  {
    code: "SCHEMA_VIOLATION",
    topic: "city/sensors/traffic/missing",
    payload: JSON.stringify({
      type: "traffic",
      sensor_id: "missing",
      timestamp: new Date(now).toISOString(),
    }),
  },
  {
    code: "SCHEMA_VIOLATION",
    topic: "city/sensors/utility/mismatch",
    payload: JSON.stringify(trafficReading("mismatch", now)),
  },
  {
    code: "OUT_OF_RANGE",
    topic: "city/sensors/traffic/negative",
    payload: JSON.stringify(trafficReading("negative", now, -5)),
  },
  {
    code: "SCHEMA_VIOLATION",
    topic: "city/sensors/traffic/nan",
    payload: JSON.stringify({ ...trafficReading("nan", now), avg_speed: "NaN" }),
  },
  { code: "PAYLOAD_TOO_LARGE", topic: "city/sensors/traffic/huge", payload: "x".repeat(70 * 1024) },
  {
    code: "UNKNOWN_TOPIC",
    topic: "city/sensors/submarine/s1",
    payload: JSON.stringify(trafficReading("s1", now)),
  },
  { code: "UNKNOWN_TOPIC", topic: "city/sensors/traffic", payload: "{}" },
];
const BAD_PER_KIND = 200;

describe("a node fed good readings mixed with thousands of bad payloads", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  let client: mqtt.MqttClient;

  beforeAll(async () => {
    ({ node, cleanup } = await startTestNode({ workers: 2 }));
    client = await mqtt.connectAsync(node.mqttUrl);
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < Math.max(GOOD, BAD_KINDS.length * BAD_PER_KIND); i++) {
      const sensor = `traffic_${i % 10}`;
      if (i < GOOD)
        sends.push(
          client.publishAsync(
            `city/sensors/traffic/${sensor}`,
            JSON.stringify(trafficReading(sensor, now - 60_000 + i * 10, 10 + (i % 50))),
            { qos: 1 },
          ),
        );
      const bad = BAD_KINDS[i % BAD_KINDS.length]!;
      if (i < BAD_KINDS.length * BAD_PER_KIND)
        sends.push(client.publishAsync(bad.topic, bad.payload, { qos: 1 }));
    }
    await Promise.all(sends);
  });

  afterAll(async () => {
    await client?.endAsync();
    await cleanup?.();
  });

  test("every good reading reaches its sensor actor", async () => {
    const processed = await eventually(
      () => node.view.sensorList().reduce((sum, s) => sum + s.readings, 0),
      (n) => n >= GOOD,
    );
    expect(processed).toBe(GOOD);
  });

  test("every bad payload is a dead letter with its reason, counted by code", async () => {
    const letters = await eventually(
      async () =>
        (await node.log.read({ topic: Topics.deadLetters, partition: 0 }, { maxRecords: 100_000 })).map(
          (r) => JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as DeadLetter,
        ),
      (all) => all.length >= BAD_KINDS.length * BAD_PER_KIND,
    );
    expect(letters.length).toBe(BAD_KINDS.length * BAD_PER_KIND);
    const byCode = new Map<string, number>();
    for (const letter of letters) {
      byCode.set(letter.code, (byCode.get(letter.code) ?? 0) + 1);
      expect(letter.reason.length).toBeGreaterThan(0);
      expect(letter.source.startsWith("mqtt:")).toBe(true);
    }
    const expected = new Map<string, number>();
    for (const kind of BAD_KINDS) expected.set(kind.code, (expected.get(kind.code) ?? 0) + BAD_PER_KIND);
    expect(Object.fromEntries(byCode)).toEqual(Object.fromEntries(expected));
    const metrics = await (await fetch(`${node.apiUrl}/metrics`)).text();
    expect(metrics).toContain('platform_dead_letters_total{source="mqtt",code="MALFORMED_JSON"} 400');
  });

  test("the node stays healthy", async () => {
    expect((await fetch(`${node.apiUrl}/health`)).status).toBe(200);
  });
});
