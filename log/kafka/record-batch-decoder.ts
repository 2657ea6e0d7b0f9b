import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { Header, LogRecord } from "../log.ts";
import { crc32c, wasmDecompress } from "./batch-codecs.ts";
import { lz4FrameBound, snappyBound } from "./decompressed-size.ts";

/**
 * Kafka record batches (message format v2, Kafka protocol guide "Record Batch") decoded straight
 * from a Fetch response's bytes into log records, with no intermediate batch or record objects.
 *
 * Batch header, 61 bytes: baseOffset int64, batchLength int32 (bytes after this field),
 * partitionLeaderEpoch int32, magic int8 (2), crc uint32 (CRC-32C of everything after it),
 * attributes int16 (bits 0-2 codec, 3 log-append time, 4 transactional, 5 control),
 * lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64,
 * producerEpoch int16, baseSequence int32, record count int32. Each record: length varint,
 * attributes int8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 null),
 * value (same), header count varint, headers (varint-length string key, nullable value).
 *
 * Bytes come from a broker we trust less than our own memory: every length is checked against
 * the bytes actually there before anything is allocated for it, the CRC is checked before a batch
 * is read, and a decompressed batch is bounded. A violation is a LOG_BATCH_CORRUPT error naming
 * the partition and offset, never a RangeError from deep inside or an allocation the input chose.
 * As in Kafka's consumer (CorruptRecordException), the whole batches before a corrupt one are
 * still records: decoding stops at it and says so in `corrupt`, with the position left at its
 * start, so the caller hands out what came before and decides about the rest (fetch it again, or
 * fail with the error); nothing in or after it is read.
 */

const BATCH_HEADER_BYTES = 61;
/** baseOffset + batchLength: the bytes before batchLength's count begins */
const LOG_OVERHEAD = 12;
const MAGIC_V2 = 2;
const CODEC_MASK = 0b111;
const LOG_APPEND_TIME = 0b1000;
const IS_TRANSACTIONAL = 0b1_0000;
const IS_CONTROL = 0b10_0000;
/** attributes, timestampDelta, offsetDelta, key length, value length, header count: one byte each at least */
const MIN_RECORD_BODY_BYTES = 6;
const TWO_32 = 4_294_967_296;
const CONTROL_ABORT = 0;

export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
}

export interface DecodeLimits {
  /** the largest batch accepted, declared or decompressed (a broker's message.max.bytes is ~1 MiB) */
  readonly maxBatchBytes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxBatchBytes: 64 * 1024 * 1024 };

export interface DecodedBatches {
  readonly records: LogRecord[];
  /**
   * the offset after the last record of the last whole batch (control batches included), if
   * any; with `corrupt`, of the last whole batch before the corrupt one
   */
  readonly nextOffset: bigint | undefined;
  /** the batch decoding stopped at, when one was corrupt */
  readonly corrupt?: CorruptBatch;
}

export interface CorruptBatch {
  /** the batch's base offset as the broker sent it (outside the CRC, so only a hint) */
  readonly offset: number;
  /** LOG_BATCH_CORRUPT, naming the partition, the offset and what is wrong */
  readonly error: PlatformError;
}

export interface BatchSource {
  readonly topic: string;
  readonly partition: number;
  /** the records of one partition of a Fetch response */
  readonly bytes: Uint8Array;
  /** the offset the fetch asked for: records before it (a batch is sent whole) are dropped */
  readonly fromOffset: bigint;
  /** read_committed: the transactions the broker says were aborted in this range */
  readonly abortedTransactions?: readonly AbortedTransaction[] | null;
}

/** where decoding failed; the batch decoder throws it as a LOG_BATCH_CORRUPT PlatformError */
function corrupt(
  source: Pick<BatchSource, "topic" | "partition">,
  offset: number,
  reason: string,
  cause?: unknown,
): PlatformError {
  return new PlatformError(
    ErrorCodes.LOG_BATCH_CORRUPT,
    `a record batch of ${source.topic}#${source.partition} at offset ${offset} is corrupt: ${reason}`,
    {
      ...(cause === undefined ? {} : { cause }),
      details: { topic: source.topic, partition: source.partition, offset },
    },
  );
}

export function decodeRecordBatches(
  source: BatchSource,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodedBatches {
  return recordsOfBatches(source, readBatches(source, limits));
}

/**
 * A whole batch whose records are still to be read: its own bytes after the header (a copy when
 * stored uncompressed, else the decompressed output), CRC-checked, not aborted, not a control
 * batch. Plain data: it crosses to another thread as it is, `body` transferred.
 */
export interface BatchBody {
  readonly body: Uint8Array;
  readonly count: number;
  readonly baseOffset: number;
  readonly baseTimestamp: number;
  /** the broker's append time, when the topic stamps records with it (LogAppendTime) */
  readonly appendTime: number | undefined;
  /** how far the decode had got before this batch: where a fault in its records leaves the position */
  readonly nextOffsetBefore: number | undefined;
}

/** the first stage of a decode: the batches' framing, CRC, transactions and decompression */
export interface ReadBatches {
  readonly batches: BatchBody[];
  /** the offset after the last whole batch read (control batches included), if any */
  readonly nextOffset: number | undefined;
  /** the batch this stage stopped at, when one was corrupt */
  readonly corrupt?: CorruptBatch;
}

/**
 * The batch stage of a decode: the costly part per byte (CRC-32C over every byte, the
 * decompression), so it may run on another thread (batch-decode-thread.ts); the record stage
 * (`recordsOfBatches`) makes the records, which must be the consumer's thread's own objects.
 */
export function readBatches(source: BatchSource, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): ReadBatches {
  const batches: BatchBody[] = [];
  const progress: BatchProgress = { nextOffset: undefined, batchOffset: 0 };
  try {
    readBatchesInto(source, limits, batches, progress);
  } catch (error) {
    if (!isPlatformError(error, ErrorCodes.LOG_BATCH_CORRUPT)) throw error;
    return {
      batches,
      nextOffset: progress.nextOffset,
      corrupt: { offset: progress.batchOffset, error },
    };
  }
  return { batches, nextOffset: progress.nextOffset };
}

/**
 * The record stage: each batch's records, in order. As Kafka's consumer, a batch whose records do
 * not parse ends the decode there: the whole batches before it are records, it is `corrupt`, and
 * the position stays at its start; the batch stage's own fault comes after every whole batch.
 */
export function recordsOfBatches(
  source: Pick<BatchSource, "topic" | "partition" | "fromOffset">,
  read: ReadBatches,
): DecodedBatches {
  const records: LogRecord[] = [];
  const from = Number(source.fromOffset);
  try {
    for (const batch of read.batches) {
      const before = records.length;
      try {
        readRecords(source, batch, from, records);
      } catch (error) {
        if (!isPlatformError(error, ErrorCodes.LOG_BATCH_CORRUPT)) throw error;
        // the corrupt batch's records (those decoded before the fault) are not handed out
        records.length = before;
        return {
          records,
          nextOffset: batch.nextOffsetBefore === undefined ? undefined : BigInt(batch.nextOffsetBefore),
          corrupt: { offset: batch.baseOffset, error },
        };
      }
    }
  } finally {
    // drop the references so a decoded response is not kept alive by the cursor
    buf = new Uint8Array(0);
    text = NO_TEXT;
  }
  const nextOffset = read.nextOffset === undefined ? undefined : BigInt(read.nextOffset);
  return read.corrupt === undefined
    ? { records, nextOffset }
    : { records, nextOffset, corrupt: read.corrupt };
}

/** how far the batch stage got: the last whole batch's end, and where the batch being read began */
interface BatchProgress {
  nextOffset: number | undefined;
  batchOffset: number;
}

function readBatchesInto(
  source: BatchSource,
  limits: DecodeLimits,
  batches: BatchBody[],
  progress: BatchProgress,
): void {
  // a plain Uint8Array whatever came in: a Buffer's slice() is a view, not the copy wanted below
  const bytes = new Uint8Array(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const from = Number(source.fromOffset);
  const aborted = [...(source.abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  let nextAborted = 0;
  const abortedProducers = new Set<bigint>();
  let nextOffset: number | undefined;
  let at = 0;
  while (bytes.byteLength - at >= LOG_OVERHEAD) {
    const baseOffset = view.getInt32(at) * TWO_32 + view.getUint32(at + 4);
    progress.nextOffset = nextOffset;
    progress.batchOffset = baseOffset;
    const batchLength = view.getInt32(at + 8);
    if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD)
      throw corrupt(
        source,
        baseOffset,
        `batch length ${batchLength} is below the ${BATCH_HEADER_BYTES - LOG_OVERHEAD}-byte header`,
      );
    if (batchLength > limits.maxBatchBytes)
      throw corrupt(
        source,
        baseOffset,
        `batch length ${batchLength} exceeds the limit of ${limits.maxBatchBytes} bytes`,
      );
    const end = at + LOG_OVERHEAD + batchLength;
    // a fetch stops where its byte limit does, often inside the last batch: that one comes again
    if (end > bytes.byteLength) break;
    const magic = view.getInt8(at + 16);
    if (magic !== MAGIC_V2)
      throw corrupt(source, baseOffset, `message format v${magic} is not supported (only v2, Kafka 0.11+)`);
    const crc = view.getUint32(at + 17);
    const actual = crc32c(bytes.subarray(at + 21, end));
    if (crc !== actual)
      throw corrupt(source, baseOffset, `CRC-32C ${actual} does not match the stored ${crc}`);
    const attributes = view.getInt16(at + 21);
    const lastOffsetDelta = view.getInt32(at + 23);
    if (lastOffsetDelta < 0)
      throw corrupt(source, baseOffset, `last offset delta ${lastOffsetDelta} is negative`);
    const lastOffset = baseOffset + lastOffsetDelta;
    if (nextOffset === undefined || lastOffset + 1 > nextOffset) nextOffset = lastOffset + 1;
    const batchStart = at;
    at = end;

    // read_committed (Kafka's Fetcher): a producer's transaction aborted from its first offset on
    // hides its transactional batches until that producer's ABORT marker
    while (nextAborted < aborted.length && Number(aborted[nextAborted]!.firstOffset) <= lastOffset)
      abortedProducers.add(aborted[nextAborted++]!.producerId);
    const transactional = (attributes & IS_TRANSACTIONAL) !== 0;
    const producerId = transactional ? view.getBigInt64(batchStart + 43) : -1n;
    if ((attributes & IS_CONTROL) !== 0) {
      if (transactional && controlType(bytes, batchStart + BATCH_HEADER_BYTES, end) === CONTROL_ABORT)
        abortedProducers.delete(producerId);
      continue;
    }
    if (transactional && abortedProducers.has(producerId)) continue;
    if (lastOffset < from) continue;

    const count = view.getInt32(batchStart + 57);
    const baseTimestamp = view.getInt32(batchStart + 27) * TWO_32 + view.getUint32(batchStart + 31);
    const appendTime =
      (attributes & LOG_APPEND_TIME) !== 0
        ? view.getInt32(batchStart + 35) * TWO_32 + view.getUint32(batchStart + 39)
        : undefined;
    const codec = attributes & CODEC_MASK;
    // the batch's own bytes (a copy, or the decompressed output): its records' values are views
    // of it, so a record kept keeps its batch alive, never the fetch response around it
    const body =
      codec === 0
        ? bytes.slice(batchStart + BATCH_HEADER_BYTES, end)
        : decompress(source, baseOffset, codec, bytes.subarray(batchStart + BATCH_HEADER_BYTES, end), limits);
    if (count < 0 || count > lastOffsetDelta + 1 || count * (MIN_RECORD_BODY_BYTES + 1) > body.byteLength)
      throw corrupt(
        source,
        baseOffset,
        `record count ${count} does not fit the batch (${body.byteLength} bytes, last offset delta ${lastOffsetDelta})`,
      );
    batches.push({
      body,
      count,
      baseOffset,
      baseTimestamp,
      appendTime,
      nextOffsetBefore: progress.nextOffset,
    });
  }
  progress.nextOffset = nextOffset;
}

function decompress(
  source: BatchSource,
  offset: number,
  codec: number,
  compressed: Uint8Array,
  limits: DecodeLimits,
): Uint8Array {
  const input = Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
  let output: Uint8Array;
  try {
    // gzip and zstd stop at the limit themselves; lz4 and snappy state their size up front
    if (codec === 1) output = gunzipSync(input, { maxOutputLength: limits.maxBatchBytes });
    else if (codec === 4) output = zstdDecompressSync(input, { maxOutputLength: limits.maxBatchBytes });
    else {
      const size = codec === 2 ? snappyBound(input) : codec === 3 ? lz4FrameBound(input) : undefined;
      if (size !== undefined && "invalid" in size)
        throw corrupt(source, offset, `its ${codecName(codec)} data is invalid: ${size.invalid}`);
      if (size !== undefined && size.bound > limits.maxBatchBytes)
        throw corrupt(
          source,
          offset,
          `it would decompress to ${size.bound} bytes, over the limit of ${limits.maxBatchBytes}`,
        );
      if (codec !== 2 && codec !== 3) throw corrupt(source, offset, `compression codec ${codec} is unknown`);
      output = wasmDecompress[codec](input);
    }
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE")
      throw corrupt(source, offset, `it decompresses to more than ${limits.maxBatchBytes} bytes`);
    throw corrupt(source, offset, `its ${codecName(codec)} data does not decompress`, error);
  }
  if (output.byteLength > limits.maxBatchBytes)
    throw corrupt(source, offset, `it decompresses to more than ${limits.maxBatchBytes} bytes`);
  return output;
}

function codecName(codec: number): string {
  return ["none", "gzip", "snappy", "lz4", "zstd"][codec] ?? `codec ${codec}`;
}

// A cursor over one batch's record bytes; module state rather than an object per batch keeps
// the per-record reads plain local loads in the JIT. Decoding is synchronous, so no interleaving.
/** Buffer's own UTF-8 slice (Node and Bun have it; untyped): half the cost of a TextDecoder here */
type Utf8Text = Buffer & { utf8Slice(start: number, end: number): string };
const NO_TEXT = Buffer.alloc(0) as Utf8Text;
let buf: Uint8Array = new Uint8Array(0);
let text: Utf8Text = NO_TEXT;
let pos = 0;
let limit = 0;
/** set by a read past `limit` or an over-long varint; checked once per record */
let bad = "";

function readVarint(): number {
  let unsigned = 0;
  let shift = 0;
  for (;;) {
    if (pos >= limit) {
      bad = "a varint runs past the record";
      return 0;
    }
    const byte = buf[pos++]!;
    if (shift === 28) {
      if (byte > 0x0f) {
        bad = "a varint is longer than 32 bits";
        return 0;
      }
      unsigned = (unsigned | (byte << 28)) >>> 0;
      break;
    }
    unsigned |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  return (unsigned >>> 1) ^ -(unsigned & 1);
}

/** a zigzag varlong as a double: exact up to 2^53, which covers any real timestamp delta */
function readVarlong(): number {
  let unsigned = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= limit) {
      bad = "a varlong runs past the record";
      return 0;
    }
    const byte = buf[pos++]!;
    unsigned += (byte & 0x7f) * scale;
    if (byte < 0x80) return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
    scale *= 128;
  }
  bad = "a varlong is longer than 64 bits";
  return 0;
}

/** a varint length and the bytes it covers; -1 is null when `nullable` */
function readLength(nullable: boolean): number {
  const length = readVarint();
  if (length < (nullable ? -1 : 0) || length > limit - pos) {
    if (bad === "") bad = `a length of ${length} does not fit the ${limit - pos} bytes left in the record`;
    return -2;
  }
  return length;
}

/** header names repeat from record to record (`ingested_at`): the last one decoded is kept */
let lastHeaderKeyBytes = new Uint8Array(0);
let lastHeaderKey = "";

function headerKey(length: number): string {
  if (length === lastHeaderKeyBytes.byteLength) {
    let same = true;
    for (let i = 0; i < length; i++)
      if (buf[pos + i] !== lastHeaderKeyBytes[i]) {
        same = false;
        break;
      }
    if (same) return lastHeaderKey;
  }
  lastHeaderKeyBytes = buf.slice(pos, pos + length);
  lastHeaderKey = text.utf8Slice(pos, pos + length);
  return lastHeaderKey;
}

function readHeaders(count: number): Header[] {
  const headers: Header[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const keyLength = readLength(false);
    if (keyLength < 0) return headers;
    const key = headerKey(keyLength);
    pos += keyLength;
    const valueLength = readLength(true);
    if (valueLength < -1) return headers;
    const value = valueLength < 0 ? "" : text.utf8Slice(pos, pos + valueLength);
    if (valueLength > 0) pos += valueLength;
    headers[i] = { key, value };
  }
  return headers;
}

/** every record without headers shares one (frozen) empty list: an array a record was an allocation each */
const NO_HEADERS: readonly Header[] = Object.freeze([]);

function readRecords(
  source: Pick<BatchSource, "topic" | "partition">,
  batch: BatchBody,
  from: number,
  into: LogRecord[],
): void {
  const { body, count, baseOffset, baseTimestamp, appendTime } = batch;
  // a plain Uint8Array, so a value is one too (a Buffer's methods differ: slice() is a view)
  buf = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  text = Buffer.from(body.buffer, body.byteOffset, body.byteLength) as Utf8Text;
  pos = 0;
  const { topic, partition } = source;
  for (let n = 0; n < count; n++) {
    bad = "";
    limit = body.byteLength;
    const length = readVarint();
    if (bad === "" && (length < MIN_RECORD_BODY_BYTES || length > limit - pos))
      bad = `record length ${length} does not fit the ${limit - pos} bytes left in the batch`;
    if (bad !== "") throw corrupt(source, baseOffset, `record ${n}: ${bad}`);
    const recordEnd = pos + length;
    limit = recordEnd;
    pos++; // record attributes: unused in format v2
    const timestampDelta = readVarlong();
    const offsetDelta = readVarint();
    const keyLength = readLength(true);
    let key: string | null = null;
    if (keyLength > 0) {
      key = text.utf8Slice(pos, pos + keyLength);
      pos += keyLength;
    } else if (keyLength === 0) key = "";
    const valueLength = bad === "" ? readLength(true) : -2;
    let value: Uint8Array | null = null;
    if (valueLength >= 0) {
      // a view of the batch's own bytes (as Kafka's DefaultRecord slices its batch's buffer): a
      // copy per record was an ArrayBuffer each, ~250 ns a record in the node path's profile
      value = buf.subarray(pos, pos + valueLength);
      pos += valueLength;
    }
    const headerCount = bad === "" ? readVarint() : 0;
    if (bad === "" && (headerCount < 0 || headerCount * 2 > recordEnd - pos))
      bad = `header count ${headerCount} does not fit the ${recordEnd - pos} bytes left in the record`;
    const headers = bad === "" && headerCount > 0 ? readHeaders(headerCount) : NO_HEADERS;
    if (bad === "" && pos !== recordEnd) bad = `${recordEnd - pos} bytes are left over at the record's end`;
    if (bad !== "") throw corrupt(source, baseOffset, `record ${n}: ${bad}`);
    const offset = baseOffset + offsetDelta;
    // a fetch answers with whole batches: drop the records before the asked offset
    if (offset < from) continue;
    into.push({
      topic,
      partition,
      offset,
      key,
      value,
      timestamp: appendTime ?? baseTimestamp + timestampDelta,
      headers,
    });
  }
  if (pos !== body.byteLength)
    throw corrupt(source, baseOffset, `${body.byteLength - pos} bytes follow the batch's ${count} records`);
}

/** a control record's type (0 abort, 1 commit) from its key: version int16, type int16 */
function controlType(bytes: Uint8Array, start: number, end: number): number {
  buf = bytes;
  pos = start;
  limit = end;
  bad = "";
  readVarint(); // record length
  pos++; // attributes
  readVarlong();
  readVarint();
  const keyLength = readLength(true);
  const type = bad === "" && keyLength >= 4 ? (bytes[pos + 2]! << 8) | bytes[pos + 3]! : -1;
  buf = new Uint8Array(0);
  return type;
}
