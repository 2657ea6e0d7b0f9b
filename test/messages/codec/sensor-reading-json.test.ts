import { describe, expect, test } from "bun:test";
import {
  type JsonReadingFields,
  readSensorReadingJson,
} from "../../../messages/codec/sensor-reading-json.ts";
import {
  environment,
  json,
  mutatedReadings,
  readingJsonRows,
  schemaAnswer,
  traffic,
  utility,
} from "./reading-json-cases.ts";

const encoder = new TextEncoder();

function readerAnswer(bytes: Uint8Array): JsonReadingFields | undefined {
  const into: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };
  return readSensorReadingJson(bytes, 0, into) ? into : undefined;
}

/** the rule: whatever the reader answers, the schema path answers the same (it may defer, never differ) */
function expectSameOrDeferred(text: string | Uint8Array): JsonReadingFields | undefined {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const read = readerAnswer(bytes);
  if (read !== undefined) expect(read).toEqual(schemaAnswer(bytes)!);
  return read;
}

describe("the reading byte reader", () => {
  test.each([
    ["traffic", traffic],
    ["environment", environment],
    ["utility", utility],
  ])("reads a %s reading as the platform writes it, as the schema path does", (_, reading) => {
    const read = expectSameOrDeferred(json(reading));
    expect(read).toBeDefined();
  });

  // every row: bytes the reader must not answer differently from JSON.parse + zod (most it defers)
  test.each(readingJsonRows)("%s: the reader answers as the schema path, or defers to it", (_, text) => {
    expectSameOrDeferred(text);
  });

  test.each([
    ["a non-ASCII byte in the sensor id", [0xc3, 0x9f]],
    ["an invalid UTF-8 byte in the sensor id", [0xff]],
    ["a NUL byte in the sensor id", [0x00]],
  ])("%s is deferred", (_, bytes) => {
    const text = encoder.encode(json(traffic));
    const at = text.indexOf(0x2d /* - */);
    const hostile = new Uint8Array([...text.subarray(0, at), ...bytes, ...text.subarray(at)]);
    expect(readerAnswer(hostile)).toBeUndefined();
  });

  test("the limits are inclusive, as zod's min and max are", () => {
    for (const reading of [
      { ...traffic, vehicle_count: 0, avg_speed: 0, location: { lat: -90, lon: 180 } },
      { ...environment, temperature: -273.15, humidity: 0 },
      { ...utility, voltage: 0, current: 0, consumption: -1e12 },
    ])
      expect(expectSameOrDeferred(json(reading))).toBeDefined();
  });

  test("what it answers the schema path answers the same, over 30,000 mutated readings", () => {
    let answered = 0;
    for (const bytes of mutatedReadings(30_000)) if (expectSameOrDeferred(bytes) !== undefined) answered++;
    // the mutations must reach the reader's accepting paths too, or the test proves nothing
    expect(answered).toBeGreaterThan(1_000);
  });

  /** `bytes` inside a larger buffer, read from its start to its end: what follows is another record's */
  function readInside(bytes: Uint8Array, before: string, after: string): JsonReadingFields | undefined {
    const head = encoder.encode(before);
    const tail = encoder.encode(after);
    const buffer = new Uint8Array(head.length + bytes.length + tail.length);
    buffer.set(head);
    buffer.set(bytes, head.length);
    buffer.set(tail, head.length + bytes.length);
    const into: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };
    return readSensorReadingJson(buffer, head.length, into, head.length + bytes.length) ? into : undefined;
  }

  test("reads a reading inside larger bytes up to its end, never into the bytes after it", () => {
    for (const reading of [traffic, environment, utility]) {
      const bytes = encoder.encode(json(reading));
      expect(readInside(bytes, "\u0006xx", "9.5e3}")).toEqual(readerAnswer(bytes)!);
      // cut short by one byte, with that byte right after the end: not a reading, whatever follows
      expect(readInside(bytes.subarray(0, bytes.length - 1), "", "}")).toBeUndefined();
      expect(readInside(bytes.subarray(0, bytes.length - 2), "", "}}")).toBeUndefined();
    }
  });

  test("answers the same for 30,000 mutated readings inside larger bytes as for each alone", () => {
    for (const bytes of mutatedReadings(30_000))
      expect(readInside(bytes, "{", "0123456789.e-}")).toEqual(readerAnswer(bytes));
  });
});
