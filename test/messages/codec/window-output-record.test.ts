import { describe, expect, test } from "bun:test";
import { decodeHostOutput } from "../../../messages/codec/host-output-codec.ts";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
import {
  decodeWindowOutput,
  encodeWindowOutput,
  type WindowOutput,
  writeWindowOutput,
} from "../../../messages/codec/window-output-record.ts";
import type { WindowResult } from "../../../messages/window-result.ts";
import { inProcessChannel } from "../../../supervisor/transport/in-process.ts";
import { expectCode, expectDecodeFailed, expectRobustDecode } from "./codec-fixtures.ts";

const output = (overrides: Partial<WindowResult> = {}, ingestedAt = 1_760_000_061_234): WindowOutput => ({
  type: "window",
  ingestedAt,
  window: {
    scope: "sensor",
    key: "traffic_b17",
    type: "traffic",
    window_start: 1_760_000_040_000,
    window_end: 1_760_000_100_000,
    count: 3,
    fields: {
      vehicle_count: { count: 3, sum: 75, mean: 25, min: 20, max: 31 },
      avg_speed: { count: 3, sum: 150, mean: 50, min: 41.5, max: 58.25 },
    },
    final: false,
    emitted_at: 1_760_000_061_240,
    ...overrides,
  },
});

/** the layout's offsets (see the byte table in window-output-record.ts) */
const at = { scope: 2, type: 3, flags: 4, fields: 5, keyLength: 6, windowStart: 12, key: 44 };

describe("window output record", () => {
  test.each([
    ["an open sensor window", output()],
    ["a final window", output({ final: true })],
    ["a per-type window", output({ scope: "type", key: "type/utility", type: "utility" })],
    ["a window with no fields", output({ fields: {}, count: 0 })],
    [
      "a unicode key and field name",
      output({ key: "🚦-b1", fields: { vitesse_é: { count: 1, sum: 2, mean: 2, min: 2, max: 2 } } }),
    ],
    [
      "a zero-length window and the largest count",
      output({ window_end: 1_760_000_040_000, count: 0xffffffff }),
    ],
  ])("round-trips %s", (_name, value) => {
    const bytes = encodeWindowOutput(value);
    expect(recordTagOf(bytes, 0, bytes.length)).toBe(RecordTags.windowOutput);
    expect(decodeWindowOutput(bytes, 0, bytes.length)).toEqual(value);
    // the main thread's decode of a host output answers the same
    expect(decodeHostOutput(bytes, 0, bytes.length)).toEqual(value);
  });

  test("carries the statistics as they are, NaN and infinities included", () => {
    const value = output({
      fields: { f: { count: 0, sum: 0, mean: Number.NaN, min: Infinity, max: -Infinity } },
    });
    const bytes = encodeWindowOutput(value);
    const field = decodeWindowOutput(bytes, 0, bytes.length).window.fields.f!;
    expect(field.mean).toBeNaN();
    expect(field.min).toBe(Infinity);
    expect(field.max).toBe(-Infinity);
  });

  test("a field named __proto__ is an own field, not the fields object's prototype", () => {
    const fields = JSON.parse('{"__proto__": {"count":1,"sum":1,"mean":1,"min":1,"max":1}}');
    const bytes = encodeWindowOutput(output({ fields }));
    const decoded = decodeWindowOutput(bytes, 0, bytes.length).window.fields;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
  });

  test.each([
    ["an unknown scope", output({ scope: "city" as never })],
    ["an unknown sensor type", output({ type: "weather" as never })],
    ["a negative count", output({ count: -1 })],
    ["a fractional count", output({ count: 1.5 })],
    ["a count past 2^32-1", output({ count: 2 ** 32 })],
    [
      "a field's fractional count",
      output({ fields: { f: { count: 0.5, sum: 0, mean: 0, min: 0, max: 0 } } }),
    ],
    ["a start after its end", output({ window_start: 2, window_end: 1 })],
    ["a NaN window end", output({ window_end: Number.NaN })],
    ["an infinite emitted_at", output({ emitted_at: Infinity })],
    ["a NaN ingestedAt", output({}, Number.NaN)],
    ["an empty field name", output({ fields: { "": { count: 0, sum: 0, mean: 0, min: 0, max: 0 } } })],
    [
      "a field name over 255 bytes",
      output({ fields: { ["x".repeat(256)]: { count: 0, sum: 0, mean: 0, min: 0, max: 0 } } }),
    ],
    ["a key over 65535 bytes", output({ key: "k".repeat(65_536) })],
    [
      "256 fields",
      output({
        fields: Object.fromEntries(
          Array.from({ length: 256 }, (_, i) => [`f${i}`, { count: 0, sum: 0, mean: 0, min: 0, max: 0 }]),
        ),
      }),
    ],
  ])("refuses to encode %s with OUT_OF_RANGE", (_name, value) => {
    expectCode("OUT_OF_RANGE", () => encodeWindowOutput(value));
  });

  const damaged: [string, (bytes: Uint8Array) => Uint8Array][] = [
    ["a truncated header", (b) => b.subarray(0, 43)],
    ["an unknown version", (b) => Object.assign(b.slice(), { 1: 2 })],
    ["an unknown scope", (b) => Object.assign(b.slice(), { [at.scope]: 2 })],
    ["an unknown sensor type", (b) => Object.assign(b.slice(), { [at.type]: 9 })],
    ["unknown flags", (b) => Object.assign(b.slice(), { [at.flags]: 2 })],
    ["more fields than the record holds", (b) => Object.assign(b.slice(), { [at.fields]: 3 })],
    [
      "fewer fields than the record holds (trailing bytes)",
      (b) => Object.assign(b.slice(), { [at.fields]: 1 }),
    ],
    [
      "a key past the record's end",
      (b) => Object.assign(b.slice(), { [at.keyLength]: 0xff, [at.keyLength + 1]: 0xff }),
    ],
    ["a zero-length field name", (b) => Object.assign(b.slice(), { [at.key + 11]: 0 })],
    ["a field name past the record's end", (b) => Object.assign(b.slice(), { [at.key + 11]: 0xff })],
    ["malformed UTF-8 in the key", (b) => Object.assign(b.slice(), { [at.key]: 0xff })],
    ["a NaN window start", (b) => withFloat(b, at.windowStart, Number.NaN)],
    ["a start after its end", (b) => withFloat(b, at.windowStart, 1e15)],
    ["one byte more", (b) => Uint8Array.from([...b, 0])],
  ];

  test.each(damaged)("fails with DECODE_FAILED on %s", (_name, damage) => {
    const bytes = damage(encodeWindowOutput(output()));
    expectDecodeFailed(() => decodeWindowOutput(bytes, 0, bytes.length));
  });

  test("a repeated field name is DECODE_FAILED", () => {
    // two fields of the same length: rename the second to the first
    const value = output({
      fields: {
        aa: { count: 1, sum: 1, mean: 1, min: 1, max: 1 },
        bb: { count: 1, sum: 1, mean: 1, min: 1, max: 1 },
      },
    });
    const bytes = encodeWindowOutput(value);
    const second = at.key + "traffic_b17".length + 1 + 2 + 36 + 1;
    bytes[second] = "a".charCodeAt(0);
    bytes[second + 1] = "a".charCodeAt(0);
    expectDecodeFailed(() => decodeWindowOutput(bytes, 0, bytes.length));
  });

  test("every prefix and thousands of corrupted bytes decode or fail with DECODE_FAILED, never crash", () => {
    expectRobustDecode(encodeWindowOutput(output()), decodeWindowOutput);
  });

  test("is written straight into a transport and read back in order", async () => {
    const { writer, reader } = inProcessChannel(4096);
    const sent = Array.from({ length: 10 }, (_, i) => output({ count: i, key: `traffic_b${i}` }));
    for (const value of sent) expect(writeWindowOutput(writer, value)).toBe(true);
    writer.flush();
    expect(await reader.waitForData(100)).toBe(true);
    const read: WindowOutput[] = [];
    reader.drain((bytes, offset, length) => {
      read.push(decodeWindowOutput(bytes, offset, length));
    });
    expect(read).toEqual(sent);
  });
});

function withFloat(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setFloat64(offset, value, true);
  return copy;
}
