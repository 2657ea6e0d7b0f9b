import { describe, expect, test } from "bun:test";
import { rawReading } from "../../engine/raw-reading.ts";
import type { LogRecord } from "../../log/log.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** the node codec's rule for a '{' value: plain JSON, MALFORMED_JSON otherwise */
const decodeJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new PlatformError(ErrorCodes.MALFORMED_JSON, "record value is not JSON", { cause });
  }
};

const traffic = {
  type: "traffic",
  sensor_id: "sensor-00042",
  timestamp: "2026-12-01T10:00:00.123Z",
  vehicle_count: 17,
  avg_speed: 41.5,
  location: { lat: 52.374199999999995, lon: 4.8942 },
};
const utility = {
  type: "utility",
  sensor_id: "U",
  timestamp: "2026-01-01T00:00:00Z",
  consumption: -12.25,
  voltage: 230,
  current: 0.5,
};

function record(value: string, offset = 7): LogRecord {
  return {
    topic: "city.sensors.raw",
    partition: 3,
    offset,
    key: null,
    value: encoder.encode(value),
    timestamp: 1_000,
    headers: [{ key: "ingested_at", value: "1234" }],
  };
}

function read(value: string): { reading: ReturnType<typeof rawReading>; letters: DeadLetter[] } {
  const letters: DeadLetter[] = [];
  const reading = rawReading(record(value), decodeJson, (letter) => letters.push(letter), 5_000);
  return { reading, letters };
}

describe("a raw reading record", () => {
  // the platform's own bytes take the byte reader; the same reading written otherwise (spaces,
  // another key order) takes JSON.parse and the schema: both must give the same hot record
  test.each([
    ["traffic", traffic, JSON.stringify(traffic, null, 1)],
    ["utility", utility, JSON.stringify(Object.fromEntries(Object.entries(utility).reverse()))],
  ])("a %s reading is the same hot record by either path", (_, reading, otherwise) => {
    const fast = read(JSON.stringify(reading));
    const general = read(otherwise);
    expect(fast.letters).toEqual([]);
    expect(general.letters).toEqual([]);
    expect(fast.reading).toEqual(general.reading!);
    expect(fast.reading).toMatchObject({ partition: 3, offset: 7, flags: 0, ingestedAt: 1234 });
  });

  test.each([
    [
      "a negative vehicle count",
      { ...traffic, vehicle_count: -1 },
      ErrorCodes.SCHEMA_VIOLATION,
      "vehicle_count",
    ],
    [
      "a latitude past 90",
      { ...traffic, location: { lat: 91, lon: 0 } },
      ErrorCodes.SCHEMA_VIOLATION,
      "location.lat",
    ],
    [
      "February 30th",
      { ...traffic, timestamp: "2026-02-30T10:00:00Z" },
      ErrorCodes.SCHEMA_VIOLATION,
      "timestamp",
    ],
    ["a sensor id with a slash", { ...utility, sensor_id: "a/b" }, ErrorCodes.SCHEMA_VIOLATION, "sensor_id"],
  ])("%s is a dead letter with the schema's reason", (_, value, code, path) => {
    const { reading, letters } = read(JSON.stringify(value));
    expect(reading).toBeUndefined();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.code).toBe(code);
    expect(letters[0]!.reason.startsWith(`${path}:`)).toBe(true);
  });

  test("a value that is not JSON is the decoder's dead letter", () => {
    const { reading, letters } = read(`${JSON.stringify(traffic).slice(0, -2)},}`);
    expect(reading).toBeUndefined();
    expect(letters.map((letter) => letter.code)).toEqual([ErrorCodes.MALFORMED_JSON]);
  });
});
