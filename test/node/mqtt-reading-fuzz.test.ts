import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ProcessedReading } from "../../messages/processed-reading.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { SensorReading } from "../../messages/sensor-reading.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { createPrng } from "../../sources/iot/prng.ts";
import { runId } from "../../testkit/real-servers.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * Hostile readings through the whole node against the reading byte reader (engine/raw-reading.ts):
 * seeded mutations of a reading in the platform's canonical form (duplicated keys, unicode
 * escapes, -0, 1e309, huge numbers, objects in value fields, NUL bytes, a BOM, truncation,
 * payloads of 64 KiB - 1 and 64 KiB + 1) published over MQTT (Mosquitto when MOSQUITTO_URL is
 * set, as in the suite, else the node's embedded broker). The judge is JSON.parse and the schema
 * (zod, not the edge's fast path): each payload is either a processed reading carrying exactly the
 * values they give, or a dead letter with a reason; nothing is dropped and nothing is doubled.
 */
const CASES = 600;
const SEED = 7_2026;
const MAX_PAYLOAD = 64 * 1024;
const run = `fz${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const utf8 = new TextDecoder("utf-8", { fatal: true });

type Expected = { readonly values: Record<string, number>; readonly eventTime: number } | "refused";

interface Case {
  readonly topic: string;
  readonly sensor: string;
  readonly payload: Buffer;
  readonly mutation: string;
}

/** what JSON.parse and the schema say of a payload (the edge's checks of topic and time included) */
function judge(c: Case, now: number): Expected {
  if (c.payload.byteLength > MAX_PAYLOAD) return "refused";
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(c.payload));
  } catch {
    return "refused"; // not JSON: the edge's MALFORMED_JSON
  }
  const parsed = SensorReading.safeParse(json);
  if (!parsed.success) return "refused";
  const reading = parsed.data;
  if (reading.type !== "traffic" || reading.sensor_id !== c.sensor) return "refused";
  const eventTime = Date.parse(reading.timestamp);
  if (!(eventTime >= 0) || eventTime > now + 3_600_000) return "refused";
  return { values: { vehicle_count: reading.vehicle_count, avg_speed: reading.avg_speed }, eventTime };
}

function fuzzCases(seed: number, count: number, now: number): Case[] {
  const generator = createPrng(seed);
  const random = () => generator.next();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const sensor = `${run}_${i}`;
    const at = now - 60_000 + i;
    const canonical = JSON.stringify(trafficReading(sensor, at, 1 + (i % 90), 10 + (i % 70)));
    const field = pick(["vehicle_count", "avg_speed"]);
    const replaceValue = (value: string) =>
      canonical.replace(new RegExp(`"${field}":[^,}]+`), `"${field}":${value}`);
    const mutations: [string, () => string | Buffer][] = [
      ["canonical", () => canonical],
      ["duplicated key", () => canonical.replace(/}$/, `,"${field}":${Math.floor(random() * 100)}}`)],
      ["duplicated key, first wins nowhere", () => `{"${field}":"x",${canonical.slice(1)}`],
      ["escaped key", () => canonical.replace(`"${field}"`, `"${field.replace("_", "\\u005f")}"`)],
      ["escaped sensor id", () => canonical.replace(`"${sensor}"`, `"${sensor.replace("_", "\\u005F")}"`)],
      ["escaped type", () => canonical.replace('"traffic"', '"tr\\u0061ffic"')],
      ["minus zero", () => replaceValue("-0")],
      ["minus zero float", () => replaceValue("-0.0")],
      ["overflow", () => replaceValue(pick(["1e309", "-1e309", "1E400"]))],
      ["huge", () => replaceValue(pick(["1e300", "123456789012345678901234567890", "9007199254740993"]))],
      ["exponent forms", () => replaceValue(pick(["3e0", "30E-1", "3.000", "0.3e1", "3E+0"]))],
      ["not JSON numbers", () => replaceValue(pick(["03", "+3", ".5", "5.", "0x10", "NaN", "Infinity"]))],
      ["tiny", () => replaceValue(pick(["5e-324", "1e-400", "0.0000001"]))],
      ["nested", () => replaceValue(pick(['{"a":1}', "[1]", "[]", "{}", "null", "true", '"5"']))],
      ["NUL raw", () => canonical.replace(`"${sensor}"`, `"${sensor}\u0000"`)],
      ["NUL escaped in location", () => canonical.replace(/}}$/, '},"note":"a\\u0000b"}')],
      ["NUL after", () => Buffer.concat([Buffer.from(canonical), Buffer.from([0])])],
      ["BOM", () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(canonical)])],
      ["truncated", () => canonical.slice(0, 1 + Math.floor(random() * (canonical.length - 1)))],
      ["whitespace", () => canonical.replaceAll(",", pick([" ,", ",\n", ",\t "]))],
      ["timestamp offset", () => canonical.replace(/Z"/, '+00:00"')],
      ["timestamp lower z", () => canonical.replace(/Z"/, 'z"')],
      ["timestamp nanos", () => canonical.replace(/Z"/, '123456Z"')],
      ["escaped timestamp", () => canonical.replace(/T(\d\d)/, "\\u0054$1")],
      ["lone surrogate", () => canonical.replace(/}}$/, '},"note":"\\ud800"}')],
      ["padded to the limit", () => padded(canonical, MAX_PAYLOAD - 1)],
      ["padded past the limit", () => padded(canonical, MAX_PAYLOAD + 1)],
      ["padded exactly", () => padded(canonical, MAX_PAYLOAD)],
    ];
    const [mutation, make] = i < mutations.length ? mutations[i]! : pick(mutations);
    const made = make();
    cases.push({
      topic: `city/sensors/traffic/${sensor}`,
      sensor,
      payload: typeof made === "string" ? Buffer.from(made) : made,
      mutation,
    });
  }
  return cases;
}

/** the reading with an extra field so its UTF-8 is exactly `bytes` long */
function padded(canonical: string, bytes: number): string {
  const without = canonical.replace(/}$/, ',"pad":""}');
  return without.replace(/""}$/, `"${"p".repeat(bytes - Buffer.byteLength(without))}"}`);
}

/** what the processed topic carries is JSON: -0 is written 0, as here */
const outcomeOf = (count: number | undefined, speed: number | undefined, eventTime: number) =>
  JSON.stringify([count, speed, eventTime]);

async function readAll(node: RunningNode, topic: string) {
  const partitions = (await node.log.partitions(topic)) ?? 0;
  const records = [];
  for (let partition = 0; partition < partitions; partition++)
    records.push(...(await node.log.read({ topic, partition }, { maxRecords: 1_000_000 })));
  return records;
}

describe("hostile readings through a running node's MQTT edge and reading byte reader", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  let client: mqtt.MqttClient;
  const mqttUrl = process.env.MOSQUITTO_URL;

  beforeAll(async () => {
    // on the shared Mosquitto the node's subscription is shared by its application id: a run of
    // its own, so no other node of the machine (another test, a stale session) takes a reading
    ({ node, cleanup } = await startTestNode({
      workers: 1,
      ...(mqttUrl ? { mqttUrl, applicationId: runId("reading-fuzz") } : {}),
    }));
    client = await mqtt.connectAsync(node.mqttUrl);
  });
  afterAll(async () => {
    await client?.endAsync();
    await cleanup?.();
  });

  test("every payload is processed with exactly JSON.parse and the schema's values, or dead-lettered with its reason", async () => {
    const now = Date.now();
    const cases = fuzzCases(SEED, CASES, now);
    const expected = new Map(cases.map((c) => [c.sensor, judge(c, now)]));
    const accepted = [...expected.values()].filter((e) => e !== "refused").length;
    // every mutation is in the run, and both outcomes occur
    expect(accepted).toBeGreaterThan(CASES / 10);
    expect(accepted).toBeLessThan(CASES);
    await Promise.all(cases.map((c) => client.publishAsync(c.topic, c.payload, { qos: 1 })));

    const ours = (sensor: string | undefined) => sensor !== undefined && expected.has(sensor);
    const sensorOfSource = (source: string) => source.slice("mqtt:city/sensors/traffic/".length);
    const seen = await eventually(
      async () => {
        // a processed reading goes to silver when it passed its quality checks, else to quarantine
        const processed = [
          ...(await readAll(node, Topics.silver)),
          ...(await readAll(node, Topics.quarantine)),
        ]
          .map((r) => ProcessedReading.parse(JSON.parse(new TextDecoder().decode(payloadOf(r.value!)))))
          .filter((p) => ours(p.sensor_id));
        const letters = (await readAll(node, Topics.deadLetters)).map(
          (r) => JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as DeadLetter,
        );
        return { processed, letters };
      },
      ({ processed, letters }) =>
        processed.length +
          letters.filter((l) => l.source.startsWith("mqtt:") && ours(sensorOfSource(l.source))).length >=
        CASES,
      60_000,
    );

    const outcomes = new Map<string, string[]>();
    const note = (sensor: string, outcome: string) =>
      outcomes.set(sensor, [...(outcomes.get(sensor) ?? []), outcome]);
    for (const p of seen.processed)
      note(p.sensor_id, outcomeOf(p.values.vehicle_count, p.values.avg_speed, p.event_time));
    for (const letter of seen.letters) {
      // a reading the edge accepted that the node refused later (the byte reader, the codec) is
      // a dead letter of another source: none may exist
      expect(letter.source.startsWith("mqtt:")).toBe(true);
      expect(letter.reason.length).toBeGreaterThan(0);
      expect(letter.reason).not.toContain("    at "); // no stack
      const sensor = sensorOfSource(letter.source);
      if (ours(sensor)) note(sensor, `refused ${letter.code}`);
    }
    const wrong: string[] = [];
    for (const c of cases) {
      const want = expected.get(c.sensor)!;
      const got = outcomes.get(c.sensor) ?? [];
      const wanted =
        want === "refused"
          ? "refused"
          : outcomeOf(want.values.vehicle_count, want.values.avg_speed, want.eventTime);
      const ok =
        got.length === 1 && (want === "refused" ? got[0]!.startsWith("refused ") : got[0] === wanted);
      if (!ok)
        wrong.push(
          `${c.mutation} ${JSON.stringify(c.payload.subarray(0, 200).toString())}: want ${wanted}, got ${JSON.stringify(got)}`,
        );
    }
    expect(wrong).toEqual([]);
    expect((await fetch(`${node.apiUrl}/health`)).status).toBe(200);
  }, 120_000);
});
