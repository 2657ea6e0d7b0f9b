import { ErrorCodes, PlatformError } from "../errors.ts";
import {
  checkHeader,
  encodeToBytes,
  type RecordSink,
  RecordTags,
  readUtf8,
  utf8Bound,
  writeUtf8,
} from "./record-layout.ts";

/**
 * A less-hot message of any shape, as JSON, layout version 1:
 *
 *   off  size  field
 *    0   u8    tag = 0x03 (RecordTags.jsonEnvelope)
 *    1   u8    version = 1
 *    2   rest  UTF-8 JSON text (the whole rest of the record)
 *
 * For control-plane-ish traffic that should still keep its order relative to hot records on
 * the same ring (alerts, drift scores, model swaps). The value must be JSON-serialisable
 * (`undefined`, functions and BigInt are refused with SCHEMA_VIOLATION); NaN and Infinity become
 * `null`, as JSON.stringify makes them. The receiver validates the shape with its zod schema.
 */
export const JSON_ENVELOPE_RECORD_VERSION = 1;
const HEADER = 2;

function stringify(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "value is not JSON-serialisable", { cause });
  }
  if (json === undefined)
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "value is not JSON-serialisable");
  return json;
}

function encodeJsonInto(json: string, bytes: Uint8Array, at: number): number {
  bytes[at] = RecordTags.jsonEnvelope;
  bytes[at + 1] = JSON_ENVELOPE_RECORD_VERSION;
  return HEADER + writeUtf8(bytes, at + HEADER, json);
}

export function encodeJsonEnvelope(value: unknown): Uint8Array {
  const json = stringify(value);
  return encodeToBytes(HEADER + utf8Bound(json), (bytes) => encodeJsonInto(json, bytes, 0));
}

/**
 * Write `value` into the transport; false when it is full. Encodes in place when the UTF-8
 * bound fits a record, else through one temporary array (large, rare messages).
 */
export function writeJsonEnvelope(sink: RecordSink, value: unknown): boolean {
  const json = stringify(value);
  const bound = HEADER + utf8Bound(json);
  if (bound <= sink.maxRecordBytes) {
    const slot = sink.reserve(bound);
    if (slot === null) return false;
    sink.commit(encodeJsonInto(json, slot.bytes, slot.offset));
    return true;
  }
  const bytes = encodeToBytes(bound, (target) => encodeJsonInto(json, target, 0));
  if (bytes.length > sink.maxRecordBytes) {
    throw new PlatformError(
      ErrorCodes.RING_RECORD_TOO_LARGE,
      "JSON envelope larger than the transport carries",
      {
        details: { bytes: bytes.length, maxRecordBytes: sink.maxRecordBytes },
      },
    );
  }
  return sink.tryWrite(bytes);
}

/** Decode the record at `bytes[offset, offset + length)`; DECODE_FAILED on malformed input. */
export function decodeJsonEnvelope(bytes: Uint8Array, offset: number, length: number): unknown {
  checkHeader(bytes, offset, length, RecordTags.jsonEnvelope, JSON_ENVELOPE_RECORD_VERSION, HEADER + 1);
  const text = readUtf8(bytes, offset + HEADER, length - HEADER);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "malformed JSON in envelope", { cause });
  }
}
