import { describe, expect, test } from "bun:test";
import { rawReading } from "../../engine/raw-reading.ts";
import { readReadingValue } from "../../engine/worker-reading.ts";
import type { JsonReadingFields } from "../../messages/codec/sensor-reading-json.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import {
  json,
  mutatedReadings,
  readingJsonRows,
  traffic,
  utility,
} from "../messages/codec/reading-json-cases.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** the node codec's decode for a value whose JSON starts at `start` (plain, or past a header) */
const decodeFrom =
  (start: number) =>
  (bytes: Uint8Array): unknown => {
    try {
      return JSON.parse(decoder.decode(bytes.subarray(start)));
    } catch (cause) {
      throw new PlatformError(ErrorCodes.MALFORMED_JSON, `record value is not JSON: ${String(cause)}`);
    }
  };

/** the main thread's answer for the same bytes: the fields it sends, or its dead letter */
function mainThreadAnswer(value: Uint8Array, start: number): unknown {
  const letters: DeadLetter[] = [];
  const record = {
    topic: "city.sensors.raw",
    partition: 0,
    offset: 0,
    key: null,
    value,
    timestamp: 0,
    headers: [],
  };
  const reading = rawReading(
    record,
    decodeFrom(start),
    (letter) => letters.push(letter),
    0,
    () => start,
  );
  if (reading === undefined) return { code: letters[0]!.code, reason: letters[0]!.reason };
  return {
    type: reading.sensorType,
    sensorId: reading.sensorId,
    eventTime: reading.eventTime,
    values: reading.values,
  };
}

function workerAnswer(value: Uint8Array, start: number): unknown {
  const into: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };
  const refused = readReadingValue(value, start, into);
  return refused === undefined ? { ...into } : { ...refused };
}

/** a value as the registry frames it: magic byte, schema id, then the JSON */
const framed = (text: string) => Uint8Array.of(0, 0, 0, 0, 7, ...encoder.encode(text));

describe("a raw reading read in its worker", () => {
  test.each(readingJsonRows)("%s: the worker's answer is the main thread's", (_, text) => {
    const value = encoder.encode(text);
    expect(workerAnswer(value, 0)).toEqual(mainThreadAnswer(value, 0));
  });

  test("seeded mutations of the platform's bytes: the worker's answer is the main thread's", () => {
    for (const value of mutatedReadings(500))
      expect(workerAnswer(value, 0)).toEqual(mainThreadAnswer(value, 0));
  });

  test.each([
    ["the platform's bytes", json(traffic)],
    ["another key order", json(Object.fromEntries(Object.entries(utility).reverse()))],
    ["a negative vehicle count", json({ ...traffic, vehicle_count: -1 })],
    ["bytes that are not JSON", `${json(traffic).slice(0, -2)},}`],
  ])("%s past a wire-format header: read from its JSON start, as the main thread reads it", (_, text) => {
    const value = framed(text);
    expect(workerAnswer(value, 5)).toEqual(mainThreadAnswer(value, 5));
  });

  test.each([
    ["a negative vehicle count", json({ ...traffic, vehicle_count: -1 }), ErrorCodes.SCHEMA_VIOLATION],
    ["bytes that are not JSON", `${json(traffic).slice(0, -2)},}`, ErrorCodes.MALFORMED_JSON],
    ["text that is not UTF-8", "\u00ff", ErrorCodes.MALFORMED_JSON],
  ])("%s is refused with its code and a reason", (_, text, code) => {
    const value = text === "\u00ff" ? Uint8Array.of(0x7b, 0xff, 0x7d) : encoder.encode(text);
    const answer = workerAnswer(value, 0) as { code: string; reason: string };
    expect(answer.code).toBe(code);
    expect(answer.reason.length).toBeGreaterThan(0);
  });
});
