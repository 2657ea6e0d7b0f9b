import type { MessageToProduce, RecordsBatch } from "@platformatic/kafka";
import type { Header, LogRecord, ProducerRecord } from "../log.ts";

/**
 * Port records <-> Kafka record batches.
 *
 * Kafka record batch v2 (Kafka protocol guide, "Record Batch"): a batch has a base offset and a
 * first timestamp; each record stores an offset delta and a timestamp delta, a nullable key, a
 * nullable value (null = tombstone) and headers as (string key, nullable bytes value) pairs.
 * Control batches (transaction markers) carry no user records and are skipped, but their offsets
 * still count, which is why positions advance by the batch's last offset, not by record count.
 */

const IS_CONTROL_BATCH = 0b10_0000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes a record takes on the wire, near enough to enforce a size limit before sending. */
export function recordSize(record: ProducerRecord): number {
  let size = 32 + (record.value?.byteLength ?? 0);
  if (record.key !== null) size += encoder.encode(record.key).byteLength;
  for (const header of record.headers ?? []) size += header.key.length * 3 + header.value.length * 3 + 8;
  return size;
}

export function toKafkaMessage(record: ProducerRecord, partition: number, now: number): MessageToProduce {
  const message: MessageToProduce = {
    topic: record.topic,
    partition,
    timestamp: BigInt(record.timestamp ?? now),
  };
  if (record.key !== null) message.key = Buffer.from(record.key, "utf8");
  // the library writes an absent value as a null value: a tombstone
  if (record.value !== null) message.value = toBuffer(record.value);
  if (record.headers !== undefined && record.headers.length > 0) {
    // Buffer keys are compared by identity, so repeated header names survive
    message.headers = new Map(
      record.headers.map((header) => [Buffer.from(header.key, "utf8"), Buffer.from(header.value, "utf8")]),
    );
  }
  return message;
}

export interface DecodedBatches {
  readonly records: LogRecord[];
  /** the offset after the last record of the last batch (including control records), if any */
  readonly nextOffset: bigint | undefined;
}

export function fromKafkaBatches(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  fromOffset: bigint,
): DecodedBatches {
  const records: LogRecord[] = [];
  let nextOffset: bigint | undefined;
  // Offsets and timestamps as doubles per record (exact below 2^53, as LogRecord carries them):
  // BigInt arithmetic per record cost more than the rest of this loop together.
  const from = Number(fromOffset);
  for (const batch of batches) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (nextOffset === undefined || last + 1n > nextOffset) nextOffset = last + 1n;
    if ((batch.attributes & IS_CONTROL_BATCH) !== 0) continue;
    const firstOffset = Number(batch.firstOffset);
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const record of batch.records) {
      const offset = firstOffset + record.offsetDelta;
      // a fetch answers with whole batches: drop the records before the asked offset
      if (offset < from) continue;
      records.push({
        topic,
        partition,
        offset,
        key: record.key === null ? null : decoder.decode(record.key),
        value: record.value === null ? null : new Uint8Array(record.value),
        timestamp: firstTimestamp + Number(record.timestampDelta),
        headers: record.headers.length === 0 ? [] : headersOf(record.headers),
      });
    }
  }
  return { records, nextOffset };
}

/** header names repeat from record to record (`ingested_at`): the last one decoded is kept */
let lastHeaderKeyBytes: Buffer | undefined;
let lastHeaderKey = "";

function headerKeyOf(bytes: Buffer): string {
  if (lastHeaderKeyBytes === undefined || !bytes.equals(lastHeaderKeyBytes)) {
    lastHeaderKey = decoder.decode(bytes);
    // a copy: the record's bytes are a view of the fetch response, which must not stay alive
    lastHeaderKeyBytes = Buffer.from(bytes);
  }
  return lastHeaderKey;
}

function headersOf(pairs: ReadonlyArray<readonly [Buffer | null, Buffer | null]>): Header[] {
  const headers: Header[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [key, value] = pairs[i]!;
    headers[i] = {
      key: key === null ? "" : headerKeyOf(key),
      value: value === null ? "" : decoder.decode(value),
    };
  }
  return headers;
}
