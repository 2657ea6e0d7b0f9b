import {
  type API,
  type Callback,
  type CreateRecordsBatchOptions,
  createAPI,
  createRecordsBatch,
  groupByProperty,
  kGetApi,
  type MessageRecord,
  ProduceAcks,
  Producer,
  produceV11,
  Writer,
} from "@platformatic/kafka";
import { encodeRecordBatch } from "./record-batch-encoder.ts";

/**
 * The Produce request (v11) with its record batches written by record-batch-encoder.ts, and the
 * producer that sends it.
 *
 * Only the bytes of each partition's batch change. The library's idempotent producer still
 * decides everything an exactly-once append rests on: the producer id and epoch, each batch's
 * base sequence (a snapshot taken once per send, so a retried request carries the same
 * sequences and the broker drops a copy that had landed), the transactional flag, the retries,
 * the recovery of a lost producer state. Those arrive here as the request's options, as they
 * reach the library's own request builder. A retry builds the request again from the same
 * messages and options: the encoder is a pure function of them, so the bytes are the same.
 *
 * Anything the encoder does not write (gzip, which the library compresses off the thread; a key
 * that is not bytes; a timestamp delta past 2^53) goes to the library's encoder, unchanged.
 */

type ProduceOptions = Partial<CreateRecordsBatchOptions>;

/** Produce v11's request as the library builds it (produce-v11.js), batches from our encoder */
export function createProduceRequest(
  acks: number | undefined,
  timeout: number | undefined,
  topicData: MessageRecord[],
  options: ProduceOptions = {},
): Writer {
  const now = BigInt(Date.now());
  // as the library: set once on the messages, so a retry of the request sees the same values
  for (const message of topicData) {
    message.partition ??= 0;
    message.timestamp ??= now;
  }
  const writer = Writer.create()
    .appendString(options.transactionalId)
    .appendInt16(acks ?? 1)
    .appendInt32(timeout ?? 0)
    .appendArray(
      groupByProperty<string, MessageRecord>(topicData, "topic"),
      (topicWriter, [topic, messages]) => {
        topicWriter
          .appendString(topic)
          .appendArray(
            groupByProperty<string, MessageRecord>(messages, "partition"),
            (partitionWriter, [partition, messages]) => {
              const batch = recordBatch(messages, options);
              partitionWriter.appendInt32(Number(partition)).appendUnsignedVarInt(batch.length + 1);
              if (Buffer.isBuffer(batch)) partitionWriter.append(batch);
              else partitionWriter.appendFrom(batch);
            },
          );
      },
    )
    .appendTaggedFields();
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true;
  return writer;
}

/** one partition's batch: ours, or the library's for what ours does not write */
function recordBatch(messages: MessageRecord[], options: ProduceOptions): Buffer | Writer {
  const first = messages[0]!;
  const encoded = encodeRecordBatch(messages as { timestamp: bigint }[], {
    compression: options.compression ?? "none",
    producerId: options.producerId ?? -1n,
    producerEpoch: options.producerEpoch ?? 0,
    baseSequence: options.sequences?.getWithDefault(`${first.topic}:${first.partition}`, 0) ?? 0,
    transactional: Boolean(options.transactionalId),
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? 0,
  });
  return encoded ?? createRecordsBatch(messages, options);
}

function createRequestOf(
  acks: number | undefined,
  timeout: number | undefined,
  topicData: MessageRecord[],
  options: ProduceOptions = {},
): Writer | Promise<Writer> {
  return options.compression === "gzip"
    ? produceV11.createRequestAsync(acks, timeout, topicData, options)
    : createProduceRequest(acks, timeout, topicData, options);
}

/** the library's Produce v11 API with our request builder (the response parsed as before) */
export const produceV11WithOwnBatches = createAPI(0, 11, createRequestOf, produceV11.parseResponse);

/**
 * The library's Producer, sending Produce v11 requests built by `createProduceRequest`. The
 * version stays the library's choice from the broker's ApiVersions; any other version, and
 * every other API, is the library's own.
 */
export class BatchEncodingProducer extends Producer {
  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(
    name: string,
    callback: Callback<API<RequestArguments, ResponseType>>,
  ): void {
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      if (error === null && name === "Produce" && (api as unknown) === produceV11.api) {
        callback(null, produceV11WithOwnBatches as unknown as API<RequestArguments, ResponseType>);
        return;
      }
      callback(error, api);
    });
  }
}
