import { describe, expect, test } from "bun:test";
import {
  decodeJsonEnvelope,
  encodeJsonEnvelope,
  writeJsonEnvelope,
} from "../../../messages/codec/json-envelope-record.ts";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
import { sabRingChannel } from "../../../supervisor/transport/sab-ring.ts";
import { expectCode, expectDecodeFailed } from "./codec-fixtures.ts";

describe("JSON envelope record", () => {
  test.each([
    ["an alert", { type: "alert", severity: "high", message: "drift on traffic_3 ⚠️" }],
    ["an array", [1, "two", null, { three: 3 }]],
    ["a bare string", "hello"],
    ["a number", 42],
  ])("round-trips %s", (_name, value) => {
    const bytes = encodeJsonEnvelope(value);
    expect(recordTagOf(bytes, 0, bytes.length)).toBe(RecordTags.jsonEnvelope);
    expect(decodeJsonEnvelope(bytes, 0, bytes.length)).toEqual(value);
  });

  test("turns NaN into null as JSON does", () => {
    const bytes = encodeJsonEnvelope({ score: Number.NaN });
    expect(decodeJsonEnvelope(bytes, 0, bytes.length)).toEqual({ score: null });
  });

  test("refuses values JSON cannot carry with SCHEMA_VIOLATION", () => {
    expectCode("SCHEMA_VIOLATION", () => encodeJsonEnvelope(undefined));
    expectCode("SCHEMA_VIOLATION", () => encodeJsonEnvelope({ big: 1n }));
  });

  test("writes into a ring in place, through a copy when only its actual size fits, and refuses what cannot fit", () => {
    const { writer, reader } = sabRingChannel(1024); // records up to 508 bytes
    const small = { n: 1 };
    const ascii = { text: "a".repeat(300) }; // 3x bound 900 > 508, actual ~313 fits
    expect(writeJsonEnvelope(writer, small)).toBe(true);
    expect(writeJsonEnvelope(writer, ascii)).toBe(true);
    expectCode("RING_RECORD_TOO_LARGE", () => writeJsonEnvelope(writer, { text: "a".repeat(600) }));
    writer.flush();
    const received: unknown[] = [];
    reader.drain((bytes, offset, length) => {
      received.push(decodeJsonEnvelope(bytes, offset, length));
    });
    expect(received).toEqual([small, ascii]);
  });

  test.each([
    ["truncated JSON", (b: Uint8Array) => b.subarray(0, b.length - 1)],
    ["an empty body", (b: Uint8Array) => b.subarray(0, 2)],
    ["malformed UTF-8", (b: Uint8Array) => Object.assign(b.slice(), { 3: 0xff })],
    ["an unknown version", (b: Uint8Array) => Object.assign(b.slice(), { 1: 2 })],
  ])("fails with DECODE_FAILED on %s", (_name, damage) => {
    const bytes = damage(encodeJsonEnvelope({ ok: true, list: [1, 2] }));
    expectDecodeFailed(() => decodeJsonEnvelope(bytes, 0, bytes.length));
  });

  test("an unknown record tag is DECODE_FAILED", () => {
    expectDecodeFailed(() => recordTagOf(new Uint8Array([9, 1, 0]), 0, 3));
    expectDecodeFailed(() => recordTagOf(new Uint8Array([1]), 0, 1));
  });
});
