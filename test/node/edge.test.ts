import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { RunningNode } from "../../node/start-node.ts";
import { createPrng } from "../../sources/iot/prng.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * Hostile input at the MQTT boundary of a running node (embedded aedes on its own thread, the
 * ingest actor, the embedded log): a bounded, seeded fuzz of payloads and topics, and a publish
 * far over the broker's packet limit. Nothing crashes, every bad payload is a dead letter with
 * its reason, every good one is ingested, and the counts add up exactly.
 */
const FUZZ_COUNT = 1500;

/** a seeded PRNG (mulberry32, the simulator's), so a case can be replayed */
function prng(seed: number): () => number {
  const generator = createPrng(seed);
  return () => generator.next();
}

type Case = { topic: string; payload: string | Buffer; good: boolean };

function fuzzCases(seed: number, count: number, now: number): Case[] {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const sensor = `fuzz_${Math.floor(random() * 1e9).toString(36)}`;
    const topic = `city/sensors/traffic/${sensor}`;
    const at = now - 60_000 + i;
    const kind = Math.floor(random() * 10);
    if (kind <= 2)
      cases.push({ topic, payload: JSON.stringify(trafficReading(sensor, at, 1 + (i % 90))), good: true });
    else if (kind === 3)
      cases.push({ topic, payload: pick(["null", "[]", "0", '""', "true", "{}"]), good: false });
    else if (kind === 4) {
      // up to 100 KB: below the broker's packet limit, so the parser has to cope
      const depth = pick([100, 10_000, 50_000]);
      cases.push({ topic, payload: `${"[".repeat(depth)}${"]".repeat(depth)}`, good: false });
    } else if (kind === 5) {
      const bytes = Buffer.alloc(1 + Math.floor(random() * 2048));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      cases.push({ topic, payload: bytes, good: false });
    } else if (kind === 6)
      cases.push({ topic, payload: "x".repeat(64 * 1024 + 1 + Math.floor(random() * 60_000)), good: false });
    else if (kind === 7) {
      const reading: Record<string, unknown> = trafficReading(sensor, at);
      reading[pick(["vehicle_count", "avg_speed", "timestamp", "location", "type", "sensor_id"])] = pick([
        null,
        "NaN",
        { nested: [1, 2] },
        "2024-13-45T99:99:99Z",
      ]);
      cases.push({ topic, payload: JSON.stringify(reading), good: false });
    } else if (kind === 8)
      cases.push({
        topic: `city/sensors/${Math.floor(random() * 1e9).toString(36)}/${sensor}`,
        payload: JSON.stringify(trafficReading(sensor, at)),
        good: false,
      });
    else
      cases.push({
        topic,
        payload: JSON.stringify({
          ...trafficReading(sensor, at),
          __proto__: { x: 1 },
          extra: "y".repeat(100),
        }),
        good: true,
      });
  }
  return cases;
}

/** an MQTT 3.1.1 CONNECT, then the fixed header of a PUBLISH announcing `bytes` */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, 77, 81, 84, 84, 4, 2, 0, 60, 0, id.length]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}
function publishHeader(bytes: number): Buffer {
  const length: number[] = [];
  let n = bytes;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    length.push(digit);
  } while (n > 0);
  return Buffer.from([0x30, ...length]);
}

// the same edge with the ingest's subscriber on either thread (embedded broker)
describe.each(["main", "broker"] as const)(
  "the MQTT edge of a running node under hostile input, subscriber on the %s thread",
  (thread) => {
    let node: RunningNode;
    let cleanup: () => Promise<void>;
    let client: mqtt.MqttClient;

    beforeAll(async () => {
      ({ node, cleanup } = await startTestNode({ workers: 0, mqttIngestThread: thread }));
      client = await mqtt.connectAsync(node.mqttUrl);
    });
    afterAll(async () => {
      await client?.endAsync();
      await cleanup?.();
    });

    test("a seeded fuzz of payloads and topic names: every one ingested or dead-lettered, exactly", async () => {
      const before = node.progress();
      const cases = fuzzCases(20_240_611, FUZZ_COUNT, Date.now());
      // QoS 1: each PUBACK from the broker is one reading the platform answers for
      await Promise.all(cases.map((c) => client.publishAsync(c.topic, c.payload, { qos: 1 })));
      const good = cases.filter((c) => c.good).length;
      const after = await eventually(
        () => node.progress(),
        (p) => p.ingested - before.ingested + (p.rejected - before.rejected) >= FUZZ_COUNT,
        30_000,
      );
      expect(after.ingested - before.ingested).toBe(good);
      expect(after.rejected - before.rejected).toBe(FUZZ_COUNT - good);
      expect((await fetch(`${node.apiUrl}/health`)).status).toBe(200);
    }, 60_000);

    test("a publish announcing 200 MB is refused from its header without memory growth, and ingest goes on", async () => {
      const rssBefore = process.memoryUsage().rss;
      const { hostname, port } = new URL(node.mqttUrl);
      let closed = false;
      let written = 0;
      const socket = await Bun.connect({
        hostname,
        port: Number(port),
        socket: {
          data() {},
          close() {
            closed = true;
          },
          error() {
            closed = true;
          },
        },
      });
      socket.write(connectPacket("huge-publisher"));
      socket.write(publishHeader(200 * 1024 * 1024));
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      // keep sending up to 64 MB unless the broker closes the connection first
      while (!closed && written < 64 * 1024 * 1024) {
        written += socket.write(chunk);
        await Bun.sleep(1);
      }
      socket.end();
      expect(closed).toBe(true);
      expect(written).toBeLessThan(16 * 1024 * 1024);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);

      const before = node.progress().ingested;
      await client.publishAsync(
        "city/sensors/traffic/after_huge",
        JSON.stringify(trafficReading("after_huge", Date.now())),
        {
          qos: 1,
        },
      );
      const after = await eventually(
        () => node.progress().ingested,
        (n) => n > before,
      );
      expect(after).toBe(before + 1);
    }, 60_000);
  },
);
