import { ErrorCodes, PlatformError } from "../errors.ts";

/**
 * What every binary record shares: byte 0 is the record tag, byte 1 the layout version. A
 * reader dispatches on the tag and refuses versions it does not know (DECODE_FAILED), so a
 * layout can grow a v2 next to v1. Multi-byte fields are little-endian; text is UTF-8.
 *
 * The codecs write straight into a transport slot (`RecordSink`, which the transport's
 * RecordWriter satisfies) so the hot path allocates nothing, and read from
 * `(bytes, offset, length)` as the transport hands records out.
 */
export const RecordTags = {
  sensorReading: 0x01,
  // 0x02 was a window update layout that never went on the ring; windowOutput (0x05) carries
  // window results. Kept unused so an old record is refused, not misread.
  jsonEnvelope: 0x03,
  actorState: 0x04,
  windowOutput: 0x05,
  rawReading: 0x06,
} as const;

export type RecordTag = (typeof RecordTags)[keyof typeof RecordTags];

/** The part of a transport writer the codecs need (structurally `supervisor/transport.ts`). */
export interface RecordSink {
  readonly maxRecordBytes: number;
  tryWrite(record: Uint8Array): boolean;
  reserve(
    maxBytes: number,
  ): { readonly bytes: Uint8Array; readonly view: DataView; readonly offset: number } | null;
  commit(length: number): void;
}

export function decodeFailed(reason: string, details: Record<string, unknown> = {}): never {
  throw new PlatformError(ErrorCodes.DECODE_FAILED, reason, { details });
}

export function outOfRange(reason: string, details: Record<string, unknown> = {}): never {
  throw new PlatformError(ErrorCodes.OUT_OF_RANGE, reason, { details });
}

/** The tag of the record at `bytes[offset, offset + length)`; DECODE_FAILED if empty or unknown. */
export function recordTagOf(bytes: Uint8Array, offset: number, length: number): RecordTag {
  if (length < 2 || offset < 0 || offset + length > bytes.length)
    decodeFailed("record too short for a header");
  const tag = bytes[offset]!;
  if (tag < RecordTags.sensorReading || tag > RecordTags.rawReading)
    decodeFailed("unknown record tag", { tag });
  return tag as RecordTag;
}

/** Check bounds, tag and version before reading a record's fields. */
export function checkHeader(
  bytes: Uint8Array,
  offset: number,
  length: number,
  tag: RecordTag,
  version: number,
  minLength: number,
): void {
  if (offset < 0 || length < 0 || offset + length > bytes.length) {
    decodeFailed("record extends past its buffer", { offset, length, available: bytes.length });
  }
  if (length < minLength) decodeFailed("record truncated", { tag, length, minLength });
  if (bytes[offset] !== tag) decodeFailed("unexpected record tag", { expected: tag, actual: bytes[offset] });
  if (bytes[offset + 1] !== version)
    decodeFailed("unknown record version", { tag, version: bytes[offset + 1] });
}

// The transport hands every record of a ring out in the same Uint8Array: one DataView serves them all.
let lastBytes: Uint8Array | undefined;
let lastView: DataView | undefined;

/** A DataView over exactly `bytes` (same offsets), cached for the last array seen. */
export function viewOf(bytes: Uint8Array): DataView {
  if (bytes !== lastBytes || lastView === undefined) {
    lastBytes = bytes;
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastView;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The most bytes `text` can take in UTF-8 (3 per UTF-16 unit), without scanning it. */
export const utf8Bound = (text: string): number => text.length * 3;

/**
 * Write `text` as UTF-8 at `bytes[at..]` (room for `utf8Bound(text)` is the caller's promise);
 * returns the bytes written. ASCII, the common case for keys, takes a loop with no allocation.
 */
export function writeUtf8(bytes: Uint8Array, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return encoder.encodeInto(text, bytes.subarray(at, at + n * 3)).written;
    bytes[at + i] = c;
  }
  return n;
}

/** Read UTF-8 at `bytes[at, at + length)`; DECODE_FAILED on malformed UTF-8. */
export function readUtf8(bytes: Uint8Array, at: number, length: number): string {
  // Short ASCII (sensor ids) is cheaper read as Latin-1 than through the decoder; longer text
  // (JSON envelopes) goes to the native decoder, whose cost does not grow per character.
  if (length > 32) return decodeStrict(bytes, at, length);
  let ascii = true;
  for (let i = at; i < at + length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  // ASCII bytes are their own Latin-1: one flat string from the runtime. Built by hand, a char at
  // a time, it was a rope that the first Map lookup by it (a sensor id in its window actor) had
  // to flatten: 158 -> 51 ns for a 12-character id and its lookup (helper R, 2026-12-02).
  if (ascii) return latin1.call(bytes, at, at + length);
  return decodeStrict(bytes, at, length);
}

const latin1 = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

function decodeStrict(bytes: Uint8Array, at: number, length: number): string {
  try {
    return decoder.decode(bytes.subarray(at, at + length));
  } catch (cause) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "malformed UTF-8 text", { cause });
  }
}

/** Encode with `write` into a fresh array of exactly the written size (tests, log values). */
export function encodeToBytes(
  maxBytes: number,
  write: (bytes: Uint8Array, view: DataView) => number,
): Uint8Array {
  const bytes = new Uint8Array(maxBytes);
  const written = write(bytes, new DataView(bytes.buffer));
  return bytes.slice(0, written);
}
