import { describe, expect, test } from "bun:test";
import {
  decodeRawReading,
  type RawReadingRecord,
  writeRawReading,
} from "../../../messages/codec/raw-reading-record.ts";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import { inProcessChannel } from "../../../supervisor/transport/in-process.ts";
import { expectCode, expectDecodeFailed } from "./codec-fixtures.ts";

const encoder = new TextEncoder();
const empty = (): RawReadingRecord => ({
  partition: 0,
  offset: 0,
  ingestedAt: 0,
  jsonStart: 0,
  valueAt: 0,
  valueEnd: 0,
});

/** the records a channel hands out, copied (the reader's bytes are only lent) */
function written(write: (sink: ReturnType<typeof inProcessChannel>["writer"]) => void): Uint8Array[] {
  const channel = inProcessChannel(1 << 16);
  write(channel.writer);
  channel.writer.flush();
  const records: Uint8Array[] = [];
  channel.reader.drain((bytes, offset, length) => {
    records.push(bytes.slice(offset, offset + length));
  });
  return records;
}

const reading = encoder.encode('{"type":"traffic","sensor_id":"s-1"}');
const framed = Uint8Array.of(0, 0, 0, 0, 7, ...reading);

describe("raw reading record", () => {
  test.each([
    ["a plain JSON value", 3, 7, 1_760_000_000_123, reading, 0],
    ["a framed value, its JSON past the header", 65_535, 2 ** 53 - 1, 0, framed, 5],
    ["an empty value", 0, 0, -1, new Uint8Array(), 0],
  ])(
    "%s comes back from the ring as it was written",
    (_, partition, offset, ingestedAt, value, jsonStart) => {
      const [record] = written((sink) =>
        expect(writeRawReading(sink, partition, offset, ingestedAt, value, jsonStart)).toBe(true),
      );
      expect(recordTagOf(record!, 0, record!.length)).toBe(RecordTags.rawReading);
      expect(record!.length).toBe(24 + value.length);
      const decoded = decodeRawReading(record!, 0, record!.length, empty());
      expect(decoded).toEqual({
        partition,
        offset,
        ingestedAt,
        jsonStart,
        valueAt: 24,
        valueEnd: 24 + value.length,
      });
      expect(record!.subarray(decoded.valueAt, decoded.valueEnd)).toEqual(value);
    },
  );

  test("a record read at an offset of a larger buffer keeps its value's place", () => {
    const [record] = written((sink) => writeRawReading(sink, 1, 2, 3, reading, 0));
    const buffer = new Uint8Array(100 + record!.length);
    buffer.set(record!, 100);
    const decoded = decodeRawReading(buffer, 100, record!.length, empty());
    expect(buffer.subarray(decoded.valueAt, decoded.valueEnd)).toEqual(reading);
  });

  test.each([
    ["a partition past 16 bits", 65_536, 0, 0],
    ["a negative partition", -1, 0, 0],
    ["a fractional offset", 0, 1.5, 0],
    ["a negative offset", 0, -1, 0],
    ["a JSON start past the value", 0, 0, reading.length + 1],
  ])("%s is refused before anything is written (OUT_OF_RANGE)", (_, partition, offset, jsonStart) => {
    const records = written((sink) =>
      expectCode("OUT_OF_RANGE", () => writeRawReading(sink, partition, offset, 0, reading, jsonStart)),
    );
    expect(records).toEqual([]);
  });

  test("a full ring takes nothing and says so", () => {
    const channel = inProcessChannel(1024);
    let taken = 0;
    while (writeRawReading(channel.writer, 0, taken, 0, new Uint8Array(100), 0)) taken++;
    expect(taken).toBeGreaterThan(0);
    channel.writer.flush();
    const offsets: number[] = [];
    channel.reader.drain((bytes, offset, length) => {
      offsets.push(decodeRawReading(bytes, offset, length, empty()).offset);
    });
    expect(offsets).toEqual(Array.from({ length: taken }, (_, i) => i));
  });

  describe("corrupt bytes", () => {
    const [record] = written((sink) => writeRawReading(sink, 3, 7, 9, framed, 5));
    const corrupt = (at: number, byte: number) => {
      const bytes = record!.slice();
      bytes[at] = byte;
      return bytes;
    };
    test.each([
      ["a header cut short", record!.subarray(0, 23)],
      ["another tag", corrupt(0, RecordTags.sensorReading)],
      ["an unknown version", corrupt(1, 2)],
      ["a JSON start past the value", corrupt(4, 0xff)],
      ["a negative offset", corrupt(15, 0xc0)],
      ["an offset that is no integer", corrupt(13, 0x01)],
    ])("%s is DECODE_FAILED", (_, bytes) => {
      expectDecodeFailed(() => decodeRawReading(bytes, 0, bytes.length, empty()));
    });

    test("any single corrupt byte decodes or is DECODE_FAILED, never a crash", () => {
      let seed = 7;
      const random = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed;
      };
      for (let i = 0; i < 2000; i++) {
        const bytes = corrupt(random() % record!.length, random() & 0xff);
        try {
          const decoded = decodeRawReading(bytes, 0, bytes.length, empty());
          expect(decoded.valueEnd).toBe(bytes.length);
          expect(decoded.valueAt + decoded.jsonStart).toBeLessThanOrEqual(bytes.length);
        } catch (error) {
          expect(isPlatformError(error, "DECODE_FAILED")).toBe(true);
        }
      }
    });
  });
});
