import {
  checkHeader,
  decodeFailed,
  encodeToBytes,
  outOfRange,
  type RecordSink,
  RecordTags,
  readUtf8,
  utf8Bound,
  viewOf,
  writeUtf8,
} from "./record-layout.ts";

/**
 * A window aggregate update between workers, binary layout version 1 (little-endian):
 *
 *   off  size  field
 *    0   u8    tag = 0x02 (RecordTags.windowUpdate)
 *    1   u8    version = 1
 *    2   u8    window kind: index in WINDOW_KINDS (0 tumbling, 1 hopping, 2 sliding, 3 session)
 *    3   u8    flags (WindowFlags)
 *    4   u32   count of values in the window
 *    8   f64   window start, epoch ms (inclusive)
 *   16   f64   window end, epoch ms (exclusive)
 *   24   f64   sum
 *   32   f64   min
 *   40   f64   max
 *   48   f64   mean
 *   56   u16   k = key length in UTF-8 bytes (0..65535)
 *   58   k     window key, UTF-8 (e.g. `traffic_3/avg_speed` or `type/traffic/avg_speed`)
 *
 * Length is exactly 58 + k. NaN: an empty window (count 0) carries sum 0 and NaN for min, max
 * and mean; the statistics are carried as they are. Start and end must be finite with
 * start <= end: OUT_OF_RANGE on encode, DECODE_FAILED on decode.
 */
export const WINDOW_UPDATE_RECORD_VERSION = 1;
const HEADER = 58;

export const WINDOW_KINDS = ["tumbling", "hopping", "sliding", "session"] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

export const WindowFlags = {
  /** the watermark passed the window end: this is the window's final value */
  final: 1,
} as const;

export interface WindowUpdateRecord {
  kind: WindowKind;
  key: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  flags: number;
}

const KIND_INDEX: Readonly<Record<WindowKind, number>> = { tumbling: 0, hopping: 1, sliding: 2, session: 3 };

export function windowUpdateMaxBytes(record: WindowUpdateRecord): number {
  return HEADER + utf8Bound(record.key);
}

export function encodeWindowUpdateInto(
  record: WindowUpdateRecord,
  bytes: Uint8Array,
  view: DataView,
  at: number,
): number {
  const kind = KIND_INDEX[record.kind];
  if (kind === undefined) outOfRange("unknown window kind", { kind: record.kind });
  if (!Number.isInteger(record.count) || record.count < 0 || record.count > 0xffffffff) {
    outOfRange("count must be an integer in 0..2^32-1", { count: record.count });
  }
  const { windowStart, windowEnd } = record;
  if (!Number.isFinite(windowStart) || !Number.isFinite(windowEnd) || windowStart > windowEnd) {
    outOfRange("window bounds must be finite with start <= end", { windowStart, windowEnd });
  }
  const k = writeUtf8(bytes, at + HEADER, record.key);
  if (k > 0xffff) outOfRange("window key longer than 65535 UTF-8 bytes");
  bytes[at] = RecordTags.windowUpdate;
  bytes[at + 1] = WINDOW_UPDATE_RECORD_VERSION;
  bytes[at + 2] = kind;
  bytes[at + 3] = record.flags & 0xff;
  view.setUint32(at + 4, record.count, true);
  view.setFloat64(at + 8, windowStart, true);
  view.setFloat64(at + 16, windowEnd, true);
  view.setFloat64(at + 24, record.sum, true);
  view.setFloat64(at + 32, record.min, true);
  view.setFloat64(at + 40, record.max, true);
  view.setFloat64(at + 48, record.mean, true);
  view.setUint16(at + 56, k, true);
  return HEADER + k;
}

/** Encode straight into the transport; false when it is full (back-pressure, nothing written). */
export function writeWindowUpdate(sink: RecordSink, record: WindowUpdateRecord): boolean {
  const slot = sink.reserve(windowUpdateMaxBytes(record));
  if (slot === null) return false;
  sink.commit(encodeWindowUpdateInto(record, slot.bytes, slot.view, slot.offset));
  return true;
}

export function encodeWindowUpdate(record: WindowUpdateRecord): Uint8Array {
  return encodeToBytes(windowUpdateMaxBytes(record), (bytes, view) =>
    encodeWindowUpdateInto(record, bytes, view, 0),
  );
}

/** Decode the record at `bytes[offset, offset + length)`; DECODE_FAILED on malformed input. */
export function decodeWindowUpdate(
  bytes: Uint8Array,
  offset: number,
  length: number,
  into?: WindowUpdateRecord,
): WindowUpdateRecord {
  checkHeader(bytes, offset, length, RecordTags.windowUpdate, WINDOW_UPDATE_RECORD_VERSION, HEADER);
  const view = viewOf(bytes);
  const kind = WINDOW_KINDS[bytes[offset + 2]!];
  if (kind === undefined) decodeFailed("unknown window kind", { kind: bytes[offset + 2] });
  const k = view.getUint16(offset + 56, true);
  if (length !== HEADER + k) decodeFailed("window update length mismatch", { length, k });
  const windowStart = view.getFloat64(offset + 8, true);
  const windowEnd = view.getFloat64(offset + 16, true);
  if (!Number.isFinite(windowStart) || !Number.isFinite(windowEnd) || windowStart > windowEnd) {
    decodeFailed("invalid window bounds", { windowStart, windowEnd });
  }
  const record = into ?? ({} as WindowUpdateRecord);
  record.kind = kind;
  record.flags = bytes[offset + 3]!;
  record.count = view.getUint32(offset + 4, true);
  record.windowStart = windowStart;
  record.windowEnd = windowEnd;
  record.sum = view.getFloat64(offset + 24, true);
  record.min = view.getFloat64(offset + 32, true);
  record.max = view.getFloat64(offset + 40, true);
  record.mean = view.getFloat64(offset + 48, true);
  record.key = readUtf8(bytes, offset + HEADER, k);
  return record;
}
