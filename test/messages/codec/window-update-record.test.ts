import { describe, expect, test } from "bun:test";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
import {
  decodeWindowUpdate,
  encodeWindowUpdate,
  WindowFlags,
  type WindowUpdateRecord,
  writeWindowUpdate,
} from "../../../messages/codec/window-update-record.ts";
import { inProcessChannel } from "../../../supervisor/transport/in-process.ts";
import { expectCode, expectDecodeFailed, expectRobustDecode } from "./codec-fixtures.ts";

const update = (overrides: Partial<WindowUpdateRecord> = {}): WindowUpdateRecord => ({
  kind: "tumbling",
  key: "traffic_3/avg_speed",
  windowStart: 1_760_000_040_000,
  windowEnd: 1_760_000_100_000,
  count: 60,
  sum: 3000,
  min: 12.5,
  max: 88,
  mean: 50,
  flags: WindowFlags.final,
  ...overrides,
});

describe("window update record", () => {
  test.each([
    ["a final tumbling window", update()],
    ["a partial session window", update({ kind: "session", flags: 0 })],
    ["a unicode key", update({ key: "type/🚦/vitesse-moyenne" })],
    ["a zero-length window", update({ windowEnd: 1_760_000_040_000 })],
    ["the largest count", update({ count: 0xffffffff })],
  ])("round-trips %s", (_name, record) => {
    const bytes = encodeWindowUpdate(record);
    expect(recordTagOf(bytes, 0, bytes.length)).toBe(RecordTags.windowUpdate);
    expect(decodeWindowUpdate(bytes, 0, bytes.length)).toEqual(record);
  });

  test("carries an empty window as count 0 with NaN min, max and mean", () => {
    const empty = update({ count: 0, sum: 0, min: Number.NaN, max: Number.NaN, mean: Number.NaN });
    const decoded = decodeWindowUpdate(encodeWindowUpdate(empty), 0, 58 + empty.key.length);
    expect(decoded.count).toBe(0);
    expect([decoded.min, decoded.max, decoded.mean].every(Number.isNaN)).toBe(true);
  });

  test("encodes in place into a transport and decodes in order", async () => {
    const { writer, reader } = inProcessChannel(4096);
    const sent = Array.from({ length: 30 }, (_, i) => update({ count: i, key: `k${i}` }));
    for (const record of sent) expect(writeWindowUpdate(writer, record)).toBe(true);
    writer.flush();
    expect(await reader.waitForData(100)).toBe(true);
    const received: WindowUpdateRecord[] = [];
    reader.drain((bytes, offset, length) => {
      received.push(decodeWindowUpdate(bytes, offset, length));
    });
    expect(received).toEqual(sent);
  });

  test.each([
    ["an unknown kind", { kind: "rolling" as "tumbling" }],
    ["a negative count", { count: -1 }],
    ["a count above 2^32-1", { count: 2 ** 32 }],
    ["a start after the end", { windowStart: 2, windowEnd: 1 }],
    ["a NaN start", { windowStart: Number.NaN }],
  ])("refuses to encode %s with OUT_OF_RANGE", (_name, overrides) => {
    expectCode("OUT_OF_RANGE", () => encodeWindowUpdate(update(overrides)));
  });

  test("fails with DECODE_FAILED, never a crash, on truncated or corrupt bytes", () => {
    expectRobustDecode(encodeWindowUpdate(update({ key: "clé" })), decodeWindowUpdate);
  });

  test("fails with DECODE_FAILED when the bytes hold another record kind", () => {
    const bytes = encodeWindowUpdate(update());
    bytes[0] = RecordTags.sensorReading;
    expectDecodeFailed(() => decodeWindowUpdate(bytes, 0, bytes.length));
  });
});
