import {
  checkHeader,
  decodeFailed,
  outOfRange,
  type RecordSink,
  RecordTags,
  viewOf,
} from "./record-layout.ts";

/**
 * An input record's value on its way to the partition worker that reads it, unparsed: the main
 * thread copies the bytes and the worker reads the reading out of them (engine/worker-reading.ts),
 * so the reading's JSON is read off the thread that polls. Layout version 1 (little-endian):
 *
 *   off  size  field
 *    0   u8    tag = 0x06 (RecordTags.rawReading)
 *    1   u8    version = 1
 *    2   u16   partition of the input topic the record came from
 *    4   u16   where the reading's JSON starts in the value (past a wire-format header)
 *    6   u16   reserved, 0
 *    8   f64   log offset of the record (an integer, exact up to 2^53)
 *   16   f64   ingest time, epoch milliseconds (the record's `ingested_at` header, else its timestamp)
 *   24   n     the record's value, as it was on the log
 *
 * Length is 24 + the value's length. Anything shorter, a JSON start past the value's end, or an
 * offset that is not a non-negative safe integer is DECODE_FAILED.
 */
export const RAW_READING_RECORD_VERSION = 1;
const HEADER = 24;

export interface RawReadingRecord {
  partition: number;
  offset: number;
  ingestedAt: number;
  /** where the reading's JSON starts in `bytes[valueAt, valueEnd)`, relative to `valueAt` */
  jsonStart: number;
  /** the value is `bytes[valueAt, valueEnd)` of the array the record was read from */
  valueAt: number;
  valueEnd: number;
}

/**
 * Copy a record's value straight into the transport; false when it is full (nothing written).
 * OUT_OF_RANGE for a partition or JSON start past 16 bits or an offset that is not an integer.
 */
export function writeRawReading(
  sink: RecordSink,
  partition: number,
  offset: number,
  ingestedAt: number,
  value: Uint8Array,
  jsonStart: number,
): boolean {
  if (partition < 0 || partition > 0xffff || jsonStart < 0 || jsonStart > 0xffff || jsonStart > value.length)
    outOfRange("raw reading partition or JSON start out of range", { partition, jsonStart });
  if (!Number.isSafeInteger(offset) || offset < 0)
    outOfRange("log offset must be a non-negative safe integer", { offset });
  const slot = sink.reserve(HEADER + value.length);
  if (slot === null) return false;
  const { bytes, view, offset: at } = slot;
  bytes[at] = RecordTags.rawReading;
  bytes[at + 1] = RAW_READING_RECORD_VERSION;
  view.setUint16(at + 2, partition, true);
  view.setUint16(at + 4, jsonStart, true);
  view.setUint16(at + 6, 0, true);
  view.setFloat64(at + 8, offset, true);
  view.setFloat64(at + 16, ingestedAt, true);
  bytes.set(value, at + HEADER);
  sink.commit(HEADER + value.length);
  return true;
}

/**
 * Read the header of the record at `bytes[offset, offset + length)` into `into` (one object
 * reused across a batch); the value stays where it is. DECODE_FAILED on malformed input.
 */
export function decodeRawReading(
  bytes: Uint8Array,
  offset: number,
  length: number,
  into: RawReadingRecord,
): RawReadingRecord {
  checkHeader(bytes, offset, length, RecordTags.rawReading, RAW_READING_RECORD_VERSION, HEADER);
  const view = viewOf(bytes);
  const logOffset = view.getFloat64(offset + 8, true);
  if (!Number.isSafeInteger(logOffset) || logOffset < 0) decodeFailed("invalid log offset", { logOffset });
  const jsonStart = view.getUint16(offset + 4, true);
  if (jsonStart > length - HEADER) decodeFailed("JSON start past the value", { jsonStart, length });
  into.partition = view.getUint16(offset + 2, true);
  into.offset = logOffset;
  into.ingestedAt = view.getFloat64(offset + 16, true);
  into.jsonStart = jsonStart;
  into.valueAt = offset + HEADER;
  into.valueEnd = offset + length;
  return into;
}
