import {
  type CompressionAlgorithmValue,
  crc32c,
  createRecordsBatch,
  type MessageRecord,
} from "@platformatic/kafka";

/**
 * Record batches as a broker stores and sends them, built with the library's own encoder, for
 * the tests of our decoder (in place and on the batch decode thread) to read.
 */

export interface BatchOptions {
  readonly compression?: CompressionAlgorithmValue;
  readonly producerId?: bigint;
  readonly transactional?: boolean;
}

/** one record batch at a chosen base offset */
export function batchAt(baseOffset: bigint, messages: MessageRecord[], options: BatchOptions = {}): Buffer {
  const bytes = Buffer.from(
    createRecordsBatch(messages, {
      compression: options.compression ?? "none",
      ...(options.producerId === undefined ? {} : { producerId: options.producerId }),
      ...(options.transactional ? { transactionalId: "tx" } : {}),
    }).buffer,
  );
  // the base offset is outside the CRC: the broker assigns it on append
  bytes.writeBigInt64BE(baseOffset, 0);
  return bytes;
}

/** a transaction marker: a control batch with one record whose key is version 0, type 0/1 */
export function markerAt(offset: bigint, producerId: bigint, type: "abort" | "commit"): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(type === "abort" ? 0 : 1, 2);
  const control: MessageRecord = {
    topic: "t",
    partition: 0,
    key,
    value: Buffer.alloc(6),
    timestamp: 1_764_600_000_000n,
    headers: new Map(),
  };
  const bytes = batchAt(offset, [control], { producerId, transactional: true });
  // set the control bit, then the CRC again over the changed attributes
  bytes.writeInt16BE(bytes.readInt16BE(21) | 0b10_0000, 21);
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
  return bytes;
}
