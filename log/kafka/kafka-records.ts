import type { MessageToProduce } from "@platformatic/kafka";
import { murmur2, partitionFor, toPositive } from "../../messages/murmur2.ts";
import type { ProducerRecord } from "../log.ts";

/**
 * Port records -> Kafka messages for the producer. The way back, Kafka record batches -> port
 * records, is record-batch-decoder.ts.
 */

/**
 * A copy, not a view: a view needs `bytes.buffer`, which makes Bun give a small typed array
 * (the usual record value) its own ArrayBuffer, twice the cost of copying its bytes (~480 vs
 * ~160 ns for a 200-byte window result). A Buffer is sent as it is, as before.
 */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
}

/** Bytes a record takes on the wire, near enough to enforce a size limit before sending. */
export function recordSize(record: ProducerRecord): number {
  return sizeWithKeyBytes(record, record.key === null ? 0 : Buffer.byteLength(record.key, "utf8"));
}

/**
 * At least `recordSize(record)`, without measuring the key (a UTF-16 code unit takes at most 3
 * UTF-8 bytes): a record within the limit by this bound is within it, so only a record near the
 * limit has its key measured. A `Buffer.byteLength` per record was 3 % of the 100k-sensor peer
 * run, for keys the conversion measures anyway as it writes them (`toKafkaMessages`' bytes).
 */
export function recordSizeBound(record: ProducerRecord): number {
  return sizeWithKeyBytes(record, record.key === null ? 0 : record.key.length * 3);
}

function sizeWithKeyBytes(record: ProducerRecord, keyBytes: number): number {
  let size = 32 + (record.value?.byteLength ?? 0) + keyBytes;
  const headers = record.headers;
  if (headers !== undefined)
    for (const header of headers) size += header.key.length * 3 + header.value.length * 3 + 8;
  return size;
}

export function toKafkaMessage(record: ProducerRecord, partition: number, now: number): MessageToProduce {
  const message: MessageToProduce = {
    topic: record.topic,
    partition,
    timestamp: BigInt(record.timestamp ?? now),
  };
  if (record.key !== null) message.key = Buffer.from(record.key, "utf8");
  return withBody(message, record);
}

export interface KafkaMessages {
  readonly messages: MessageToProduce[];
  /** the records' `recordSize`s summed, their keys measured as they were written */
  readonly bytes: number;
}

/**
 * The messages of one append, record i to partition `partitions[i]` (left unset without
 * `partitions`: the caller places them by their key bytes, `partitionOfKeyBytes`). Their keys are
 * written into one Buffer, each message's key a view of its own part: a Buffer per key was an
 * allocation of its own for every record the node produces (1.3 % of the 100k-sensor peer run).
 * Records without a timestamp share one BigInt of `now`: a BigInt is an allocation, and they are
 * never changed.
 */
export function toKafkaMessages(
  records: readonly ProducerRecord[],
  partitions: readonly number[] | undefined,
  now: number,
): KafkaMessages {
  let bound = 0; // UTF-8 takes at most 3 bytes per UTF-16 code unit
  for (const record of records) if (record.key !== null) bound += record.key.length * 3;
  const keys = Buffer.allocUnsafe(bound);
  const nowStamp = BigInt(now);
  let at = 0;
  let bytes = 0;
  const messages = new Array<MessageToProduce>(records.length);
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const message: MessageToProduce = {
      topic: record.topic,
      partition: partitions?.[i],
      timestamp: record.timestamp === undefined ? nowStamp : BigInt(record.timestamp),
    };
    let keyBytes = 0;
    if (record.key !== null) {
      keyBytes = record.key.length === 0 ? 0 : keys.write(record.key, at, "utf8");
      message.key = keys.subarray(at, at + keyBytes);
      at += keyBytes;
    }
    bytes += sizeWithKeyBytes(record, keyBytes);
    messages[i] = withBody(message, record);
  }
  return { messages, bytes };
}

/**
 * `partitionFor(key, partitions)` from the key's UTF-8 bytes as the conversion wrote them:
 * hashed where they lie when the key is ASCII (as many bytes as code units), so a record's key is
 * encoded once, not a second time for its partition (7 % of the 100k-sensor peer run went to the
 * two). Any other key is hashed as Kafka's Java client encodes it (`partitionFor`), which differs
 * from these bytes for an unpaired surrogate.
 */
export function partitionOfKeyBytes(key: string, keyBytes: Uint8Array, partitions: number): number {
  if (keyBytes.length !== key.length) return partitionFor(key, partitions);
  return toPositive(murmur2(keyBytes, 0, keyBytes.length)) % partitions;
}

function withBody(message: MessageToProduce, record: ProducerRecord): MessageToProduce {
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
