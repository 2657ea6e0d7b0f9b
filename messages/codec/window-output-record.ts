import { SENSOR_TYPES } from "../sensor-reading.ts";
import type { FieldAggregates, WindowResult } from "../window-result.ts";
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
 * A partition host's window output (a window's aggregates, open or final, and when the reading
 * that moved it was ingested), from a worker to the main thread, binary layout version 1
 * (little-endian). One goes back per reading at 20k readings/s; as a JSON envelope it cost a
 * JSON.stringify in the worker and a JSON.parse on the main thread each.
 *
 *   off  size  field
 *    0   u8    tag = 0x05 (RecordTags.windowOutput)
 *    1   u8    version = 1
 *    2   u8    scope: 0 sensor, 1 type
 *    3   u8    sensor type: index in SENSOR_TYPES
 *    4   u8    flags: bit 0 final
 *    5   u8    n = number of fields (0..255)
 *    6   u16   k = key length in UTF-8 bytes
 *    8   u32   count of readings in the window
 *   12   f64   window_start, epoch ms
 *   20   f64   window_end, epoch ms
 *   28   f64   emitted_at, epoch ms
 *   36   f64   ingestedAt, epoch ms (of the reading that moved the window)
 *   44   k     key, UTF-8
 *   then n fields, each:
 *    0   u8    m = field name length in UTF-8 bytes (1..255)
 *    1   m     field name, UTF-8
 *    1+m u32   count
 *    5+m f64   sum, mean, min, max (32 bytes)
 *
 * Length is exactly 44 + k + the fields' (37 + m) each. Statistics are carried as they are
 * (NaN too); the bounds and times must be finite: OUT_OF_RANGE on encode, DECODE_FAILED on decode.
 */
export const WINDOW_OUTPUT_RECORD_VERSION = 1;
const HEADER = 44;
const FIELD_FIXED = 37;
const SCOPES = ["sensor", "type"] as const;

export interface WindowOutput {
  readonly type: "window";
  readonly window: WindowResult;
  readonly ingestedAt: number;
}

export function windowOutputMaxBytes(output: WindowOutput): number {
  let bytes = HEADER + utf8Bound(output.window.key);
  for (const name in output.window.fields) bytes += FIELD_FIXED + utf8Bound(name);
  return bytes;
}

export function encodeWindowOutputInto(
  output: WindowOutput,
  bytes: Uint8Array,
  view: DataView,
  at: number,
): number {
  const w = output.window;
  const scope = w.scope === "sensor" ? 0 : w.scope === "type" ? 1 : -1;
  if (scope < 0) outOfRange("unknown window scope", { scope: w.scope });
  const type = SENSOR_TYPES.indexOf(w.type);
  if (type < 0) outOfRange("unknown sensor type", { type: w.type });
  checkCount(w.count);
  for (const time of [w.window_start, w.window_end, w.emitted_at, output.ingestedAt])
    if (!Number.isFinite(time)) outOfRange("window times must be finite");
  if (w.window_start > w.window_end) outOfRange("window start after its end");
  const k = writeUtf8(bytes, at + HEADER, w.key);
  if (k > 0xffff) outOfRange("window key longer than 65535 UTF-8 bytes");
  let p = at + HEADER + k;
  let n = 0;
  for (const name in w.fields) {
    const field = w.fields[name]!;
    const m = writeUtf8(bytes, p + 1, name);
    if (m === 0 || m > 0xff) outOfRange("field name must be 1..255 UTF-8 bytes", { name });
    if (++n > 0xff) outOfRange("more than 255 fields in a window");
    checkCount(field.count);
    bytes[p] = m;
    p += 1 + m;
    view.setUint32(p, field.count, true);
    view.setFloat64(p + 4, field.sum, true);
    view.setFloat64(p + 12, field.mean, true);
    view.setFloat64(p + 20, field.min, true);
    view.setFloat64(p + 28, field.max, true);
    p += 36;
  }
  bytes[at] = RecordTags.windowOutput;
  bytes[at + 1] = WINDOW_OUTPUT_RECORD_VERSION;
  bytes[at + 2] = scope;
  bytes[at + 3] = type;
  bytes[at + 4] = w.final ? 1 : 0;
  bytes[at + 5] = n;
  view.setUint16(at + 6, k, true);
  view.setUint32(at + 8, w.count, true);
  view.setFloat64(at + 12, w.window_start, true);
  view.setFloat64(at + 20, w.window_end, true);
  view.setFloat64(at + 28, w.emitted_at, true);
  view.setFloat64(at + 36, output.ingestedAt, true);
  return p - at;
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff)
    outOfRange("count must be an integer in 0..2^32-1", { count });
}

/** Encode straight into the transport; false when it is full (back-pressure, nothing written). */
export function writeWindowOutput(sink: RecordSink, output: WindowOutput): boolean {
  const slot = sink.reserve(windowOutputMaxBytes(output));
  if (slot === null) return false;
  sink.commit(encodeWindowOutputInto(output, slot.bytes, slot.view, slot.offset));
  return true;
}

export function encodeWindowOutput(output: WindowOutput): Uint8Array {
  return encodeToBytes(windowOutputMaxBytes(output), (bytes, view) =>
    encodeWindowOutputInto(output, bytes, view, 0),
  );
}

/** Decode the record at `bytes[offset, offset + length)`; DECODE_FAILED on malformed input. */
export function decodeWindowOutput(bytes: Uint8Array, offset: number, length: number): WindowOutput {
  checkHeader(bytes, offset, length, RecordTags.windowOutput, WINDOW_OUTPUT_RECORD_VERSION, HEADER);
  const view = viewOf(bytes);
  const scope = SCOPES[bytes[offset + 2]!];
  if (scope === undefined) decodeFailed("unknown window scope", { scope: bytes[offset + 2] });
  const type = SENSOR_TYPES[bytes[offset + 3]!];
  if (type === undefined) decodeFailed("unknown sensor type", { type: bytes[offset + 3] });
  const flags = bytes[offset + 4]!;
  if (flags > 1) decodeFailed("unknown window flags", { flags });
  const n = bytes[offset + 5]!;
  const k = view.getUint16(offset + 6, true);
  const end = offset + length;
  if (HEADER + k > length) decodeFailed("window key past the record's end", { length, k });
  const windowStart = view.getFloat64(offset + 12, true);
  const windowEnd = view.getFloat64(offset + 20, true);
  const emittedAt = view.getFloat64(offset + 28, true);
  const ingestedAt = view.getFloat64(offset + 36, true);
  if (![windowStart, windowEnd, emittedAt, ingestedAt].every(Number.isFinite) || windowStart > windowEnd)
    decodeFailed("invalid window times", { windowStart, windowEnd });
  const key = readUtf8(bytes, offset + HEADER, k);
  // own properties only: a field named "__proto__" must not become the object's prototype
  const fields: Record<string, FieldAggregates> = {};
  let p = offset + HEADER + k;
  for (let i = 0; i < n; i++) {
    if (p >= end) decodeFailed("window fields past the record's end", { field: i });
    const m = bytes[p]!;
    if (m === 0 || p + 1 + m + 36 > end) decodeFailed("window field past the record's end", { field: i });
    const name = readUtf8(bytes, p + 1, m);
    if (Object.hasOwn(fields, name)) decodeFailed("repeated window field", { field: i });
    p += 1 + m;
    const aggregates: FieldAggregates = {
      count: view.getUint32(p, true),
      sum: view.getFloat64(p + 4, true),
      mean: view.getFloat64(p + 12, true),
      min: view.getFloat64(p + 20, true),
      max: view.getFloat64(p + 28, true),
    };
    if (name === "__proto__")
      Object.defineProperty(fields, name, {
        value: aggregates,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else fields[name] = aggregates;
    p += 36;
  }
  if (p !== end) decodeFailed("window output length mismatch", { length, used: p - offset });
  return {
    type: "window",
    ingestedAt,
    window: {
      scope,
      key,
      type,
      window_start: windowStart,
      window_end: windowEnd,
      count: view.getUint32(offset + 8, true),
      fields,
      final: flags === 1,
      emitted_at: emittedAt,
    },
  };
}
