import { SENSOR_TYPES, type SensorType } from "../sensor-reading.ts";
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
 * A sensor reading on the hot path between workers, binary layout version 1 (little-endian):
 *
 *   off  size  field
 *    0   u8    tag = 0x01 (RecordTags.sensorReading)
 *    1   u8    version = 1
 *    2   u8    sensor type: index in SENSOR_TYPES (0 traffic, 1 environment, 2 utility)
 *    3   u8    flags (ReadingFlags)
 *    4   u16   partition of `city.sensors.raw` the reading came from
 *    6   u8    n = number of measurement values (0..255)
 *    7   u8    k = sensor id length in UTF-8 bytes (0..255)
 *    8   f64   log offset of the record (an integer, exact up to 2^53)
 *   16   f64   event time, epoch milliseconds
 *   24   f64   ingest time, epoch milliseconds: when the edge accepted it (end-to-end latency)
 *   32   f64×n measurement values in MEASUREMENTS[type] order
 * 32+8n  k     sensor id, UTF-8
 *
 * Length is exactly 32 + 8n + k (a `traffic_12` reading is 58 bytes). Anything else is
 * DECODE_FAILED. Values are doubles, so offsets and counts stay exact.
 *
 * NaN: a NaN value means "measurement missing" (a faulty sensor); it travels as NaN (payload
 * bits are not kept) and the encoder sets ReadingFlags.missingValue so consumers can skip the
 * scan. Infinities are carried as they are (the edge schema has already refused them). Event
 * time and log offset must be finite: OUT_OF_RANGE on encode, DECODE_FAILED on decode.
 */
export const SENSOR_READING_RECORD_VERSION = 1;
const HEADER = 32;

export const ReadingFlags = {
  /** at least one value is NaN (missing) */
  missingValue: 1,
  /** arrived behind the watermark */
  late: 2,
  /** re-dispatched from the log after a worker restart */
  replayed: 4,
} as const;

export interface SensorReadingRecord {
  sensorType: SensorType;
  sensorId: string;
  partition: number;
  offset: number;
  eventTime: number;
  /** when ingest accepted the reading (epoch ms); the start of end-to-end latency */
  ingestedAt: number;
  values: number[];
  flags: number;
}

const TYPE_INDEX: Readonly<Record<SensorType, number>> = { traffic: 0, environment: 1, utility: 2 };

/** An upper bound of the encoded size, cheap enough to reserve with. */
export function sensorReadingMaxBytes(record: SensorReadingRecord): number {
  // ids over 255 UTF-16 units are refused before writing, so the bound stays <= 765 bytes
  return HEADER + 8 * record.values.length + Math.min(utf8Bound(record.sensorId), 765);
}

/** Encode at `bytes[at..]` (room for `sensorReadingMaxBytes`); returns the bytes written. */
export function encodeSensorReadingInto(
  record: SensorReadingRecord,
  bytes: Uint8Array,
  view: DataView,
  at: number,
): number {
  const type = TYPE_INDEX[record.sensorType];
  const n = record.values.length;
  if (type === undefined) outOfRange("unknown sensor type", { sensorType: record.sensorType });
  if (n > 255) outOfRange("more than 255 measurement values", { count: n });
  if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition > 0xffff) {
    outOfRange("partition must be an integer in 0..65535", { partition: record.partition });
  }
  if (!Number.isSafeInteger(record.offset) || record.offset < 0) {
    outOfRange("log offset must be a non-negative safe integer", { offset: record.offset });
  }
  if (!Number.isFinite(record.eventTime))
    outOfRange("event time must be finite", { eventTime: record.eventTime });
  let flags = record.flags & ~ReadingFlags.missingValue;
  const valuesAt = at + HEADER;
  for (let i = 0; i < n; i++) {
    const value = record.values[i]!;
    if (Number.isNaN(value)) flags |= ReadingFlags.missingValue;
    view.setFloat64(valuesAt + 8 * i, value, true);
  }
  const keyAt = valuesAt + 8 * n;
  if (record.sensorId.length > 255) outOfRange("sensor id longer than 255 characters");
  const k = writeUtf8(bytes, keyAt, record.sensorId);
  if (k > 255)
    outOfRange("sensor id longer than 255 UTF-8 bytes", { sensorId: record.sensorId.slice(0, 64) });
  bytes[at] = RecordTags.sensorReading;
  bytes[at + 1] = SENSOR_READING_RECORD_VERSION;
  bytes[at + 2] = type;
  bytes[at + 3] = flags;
  view.setUint16(at + 4, record.partition, true);
  bytes[at + 6] = n;
  bytes[at + 7] = k;
  view.setFloat64(at + 8, record.offset, true);
  view.setFloat64(at + 16, record.eventTime, true);
  view.setFloat64(at + 24, record.ingestedAt, true);
  return HEADER + 8 * n + k;
}

/** Encode straight into the transport; false when it is full (back-pressure, nothing written). */
export function writeSensorReading(sink: RecordSink, record: SensorReadingRecord): boolean {
  const slot = sink.reserve(sensorReadingMaxBytes(record));
  if (slot === null) return false;
  sink.commit(encodeSensorReadingInto(record, slot.bytes, slot.view, slot.offset));
  return true;
}

export function encodeSensorReading(record: SensorReadingRecord): Uint8Array {
  return encodeToBytes(sensorReadingMaxBytes(record), (bytes, view) =>
    encodeSensorReadingInto(record, bytes, view, 0),
  );
}

/**
 * Decode the record at `bytes[offset, offset + length)`. Pass `into` to reuse one object (and
 * its `values` array) across a batch; DECODE_FAILED on any malformed input, never a crash.
 */
export function decodeSensorReading(
  bytes: Uint8Array,
  offset: number,
  length: number,
  into?: SensorReadingRecord,
): SensorReadingRecord {
  checkHeader(bytes, offset, length, RecordTags.sensorReading, SENSOR_READING_RECORD_VERSION, HEADER);
  const view = viewOf(bytes);
  const sensorType = SENSOR_TYPES[bytes[offset + 2]!];
  if (sensorType === undefined) decodeFailed("unknown sensor type", { sensorType: bytes[offset + 2] });
  const n = bytes[offset + 6]!;
  const k = bytes[offset + 7]!;
  if (length !== HEADER + 8 * n + k) decodeFailed("sensor reading length mismatch", { length, n, k });
  const logOffset = view.getFloat64(offset + 8, true);
  const eventTime = view.getFloat64(offset + 16, true);
  if (!Number.isSafeInteger(logOffset) || logOffset < 0) decodeFailed("invalid log offset", { logOffset });
  if (!Number.isFinite(eventTime)) decodeFailed("invalid event time", { eventTime });
  const record = into ?? ({ values: [] as number[] } as SensorReadingRecord);
  const values = record.values;
  values.length = n;
  for (let i = 0; i < n; i++) values[i] = view.getFloat64(offset + HEADER + 8 * i, true);
  record.sensorType = sensorType;
  record.flags = bytes[offset + 3]!;
  record.partition = view.getUint16(offset + 4, true);
  record.offset = logOffset;
  record.eventTime = eventTime;
  record.ingestedAt = view.getFloat64(offset + 24, true);
  record.sensorId = readUtf8(bytes, offset + HEADER + 8 * n, k);
  return record;
}
