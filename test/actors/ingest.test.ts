import { afterEach, describe, expect, test } from "bun:test";
import { type IngestMessage, ingestProps, type ParseResult } from "../../actors/ingest.ts";
import type { Log, ProducerRecord } from "../../log/log.ts";
import { deadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import type { SensorReading } from "../../messages/sensor-reading.ts";
import { Topics } from "../../messages/topics.ts";
import { type ActorSystem, createActorSystem } from "../../supervisor/actor-system.ts";

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const reading = (timestamp: string): SensorReading =>
  ({
    type: "traffic",
    sensor_id: "t1",
    timestamp,
    vehicle_count: 3,
    avg_speed: 40,
    location: { lat: 52.5, lon: 13.4 },
  }) as SensorReading;

/** the records of one batch as the log was asked to append them */
async function appendedFor(parse: (payload: string) => ParseResult): Promise<ProducerRecord[]> {
  const appended: ProducerRecord[] = [];
  const log = {
    append: async (records: readonly ProducerRecord[]) => void appended.push(...records),
  } as unknown as Log;
  system = createActorSystem();
  const ingest = system.spawn(
    ingestProps({
      log,
      encode: async (_topic, value) => new TextEncoder().encode(JSON.stringify(value)),
      parse: (_topic, payload) => parse(new TextDecoder().decode(payload)),
    }),
    "ingest",
  );
  await new Promise<void>((resolve, reject) => {
    const message: IngestMessage = {
      type: "batch",
      messages: ["a", "b"].map((text) => ({
        topic: "city/sensors/traffic/t1",
        payload: new TextEncoder().encode(text),
        receivedAt: 1_764_000_000_500,
      })),
      done: (error) => (error === undefined ? resolve() : reject(error)),
    };
    ingest.offer(message).catch(reject);
  });
  return appended;
}

describe("the ingest actor", () => {
  test("a raw reading's record takes the event time the parser read, or parses the timestamp itself", async () => {
    const records = await appendedFor((payload) =>
      payload === "a"
        ? { ok: true, reading: reading("2026-12-01T10:00:00.123Z"), key: "t1", eventTime: 42 }
        : { ok: true, reading: reading("2026-12-01T10:00:00.123Z"), key: "t1" },
    );
    expect(records.map((r) => r.timestamp)).toEqual([42, Date.parse("2026-12-01T10:00:00.123Z")]);
    expect(records.map((r) => r.topic)).toEqual([Topics.sensorsRaw, Topics.sensorsRaw]);
  });

  test("raw readings and dead letters hand their fresh bytes over to the log (no copy in its tail)", async () => {
    const records = await appendedFor((payload) =>
      payload === "a"
        ? { ok: true, reading: reading("2026-12-01T10:00:00.123Z"), key: "t1", eventTime: 1 }
        : {
            ok: false,
            deadLetter: deadLetter(
              "mqtt:city/sensors/traffic/t1",
              ErrorCodes.MALFORMED_JSON,
              "not JSON",
              "b",
              2,
            ),
          },
    );
    expect(records.map((r) => [r.topic, r.handedOver])).toEqual([
      [Topics.sensorsRaw, true],
      [Topics.deadLetters, true],
    ]);
  });
});
