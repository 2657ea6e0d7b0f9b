import { describe, expect, test } from "bun:test";
import { readUtf8 } from "../../../messages/codec/record-layout.ts";
import { ErrorCodes } from "../../../messages/errors.ts";

/** the bytes at offset 5 of a view into shared memory, as a record sits in a worker ring */
function inRing(bytes: readonly number[]): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(bytes.length + 16), 8, bytes.length + 8);
  view.set(bytes, 5);
  return view;
}
const utf8 = (text: string) => [...new TextEncoder().encode(text)];

describe("UTF-8 text read from a record", () => {
  test.each([
    ["a sensor id", utf8("sensor-00577"), "sensor-00577"],
    ["nothing", [], ""],
    ["control characters and DEL", [0x61, 0x00, 0x09, 0x7f], "a\u0000\t\u007f"],
    ["32 ASCII bytes (the short path's longest)", utf8("k".repeat(32)), "k".repeat(32)],
    ["33 ASCII bytes (the decoder's)", utf8("k".repeat(33)), "k".repeat(33)],
    ["a 2-byte character in a short text", utf8("caf\u00e9"), "caf\u00e9"],
    ["a 4-byte character in a short text", utf8("s\u{1f600}"), "s\u{1f600}"],
  ])("%s, from a shared ring's memory", (_name, bytes, expected) => {
    expect(readUtf8(inRing(bytes), 5, bytes.length)).toBe(expected);
  });

  test.each([
    ["a lone continuation byte", [0x61, 0x80]],
    ["a truncated 2-byte character", [0x61, 0xc3]],
    ["an overlong encoding", [0xc0, 0xaf]],
  ])("%s is DECODE_FAILED", (_name, bytes) => {
    expect(() => readUtf8(inRing(bytes), 5, bytes.length)).toThrow(
      expect.objectContaining({ code: ErrorCodes.DECODE_FAILED }),
    );
  });
});
