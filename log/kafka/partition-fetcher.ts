import {
  type Connection,
  type ConnectionPool,
  FetchIsolationLevels,
  fetchV12,
  type Consumer as KafkaConsumer,
  type Reader,
  ResponseError,
} from "@platformatic/kafka";
import { hasApiError } from "./kafka-errors.ts";
import {
  type AbortedTransaction,
  type BatchSource,
  type DecodedBatches,
  type DecodeLimits,
  decodeRecordBatches,
} from "./record-batch-decoder.ts";

/**
 * One Fetch round (Kafka protocol, Fetch API v12): ask each partition's leader for records from
 * a given offset, on a connection pool of its own so a long-polling fetch never delays the
 * group's heartbeats and commits on the coordinator connection.
 *
 * The request goes out on the library's connection, but the response is parsed here: the
 * library's parser turns every record of every batch into objects (BigInts, Buffer slices, Maps)
 * before we see one, which cost ~70 % of a consume (bench/RESULTS.md, "raw consume"). Here each
 * partition's record bytes are kept as one slice and decoded straight into log records
 * (record-batch-decoder.ts). v12 is the last version that names topics instead of topic ids,
 * so no id lookup is needed; every broker from 2.7 to 4.x answers it. No fetch session
 * (KIP-227): a full fetch each round, which for the few partitions a member owns costs a few
 * bytes per partition and spares the session bookkeeping.
 */

const FETCH_API_KEY = 1;
const FETCH_VERSION = 12;
/** session id 0 with the final epoch: a full fetch that opens no session (KIP-227) */
const NO_SESSION_ID = 0;
const FINAL_EPOCH = -1;
const MIN_BYTES = 1;

/** partition errors the Java consumer answers with a metadata refresh and another try */
const STALE_LEADER_ERRORS = [
  "NOT_LEADER_OR_FOLLOWER",
  "LEADER_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "REPLICA_NOT_AVAILABLE",
  "KAFKA_STORAGE_ERROR",
  "OFFSET_NOT_AVAILABLE",
];

export interface FetchPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface FetchedPartition extends DecodedBatches {
  readonly topic: string;
  readonly partition: number;
  readonly fromOffset: bigint;
  readonly highWatermark: bigint;
  /**
   * where this fetch's reading ends: the last stable offset (the fetch reads committed records
   * only, KIP-98), or the high watermark when the broker gave none
   */
  readonly readableEnd: bigint;
  /** the record batch bytes the broker sent for this partition */
  readonly bytes: number;
}

export interface FetchLimits {
  readonly maxWaitMs: number;
  readonly partitionBytes: number;
  readonly totalBytes: number;
  /** tries after a leader moved or a connection broke, and the pause between them */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly decode?: DecodeLimits;
  /**
   * decodes each partition's bytes (record-batch-decoder.ts); default in place, the group
   * consumer's moves the batch stage of large responses to a thread (batch-decode-offload.ts)
   */
  readonly decoder?: (
    sources: readonly BatchSource[],
    limits: DecodeLimits | undefined,
  ) => Promise<DecodedBatches[]>;
}

const decodeInPlace = (sources: readonly BatchSource[], limits: DecodeLimits | undefined) =>
  Promise.resolve(sources.map((source) => decodeRecordBatches(source, limits)));

interface RawPartition {
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: bigint;
  /** -1 when the broker does not know it */
  readonly lastStableOffset: bigint;
  readonly abortedTransactions: AbortedTransaction[] | null;
  /** this partition's record batches, as the broker sent them */
  readonly records: Uint8Array | null;
}

interface RawTopic {
  readonly topic: string;
  readonly partitions: RawPartition[];
}

interface RequestPartition {
  partition: number;
  currentLeaderEpoch: number;
  fetchOffset: bigint;
  lastFetchedEpoch: number;
  partitionMaxBytes: number;
}

/** Fetch v12's response with each partition's records left as bytes */
export function parseFetchResponse(
  _correlationId: number,
  apiKey: number,
  apiVersion: number,
  reader: Reader,
): RawTopic[] {
  reader.readInt32(); // throttle_time_ms
  const errorCode = reader.readInt16();
  reader.readInt32(); // session_id
  if (errorCode !== 0) throw new ResponseError(apiKey, apiVersion, { "": [errorCode, null] }, {});
  return reader.readArray((topicReader) => ({
    topic: topicReader.readString(),
    partitions: topicReader.readArray((r) => {
      const partition = r.readInt32();
      const partitionError = r.readInt16();
      const highWatermark = r.readInt64();
      const lastStableOffset = r.readInt64();
      r.readInt64(); // log_start_offset
      const abortedTransactions = r.readNullableArray((t) => ({
        producerId: t.readInt64(),
        firstOffset: t.readInt64(),
      }));
      r.readInt32(); // preferred_read_replica
      // COMPACT_RECORDS: length + 1, 0 for null
      const size = r.readUnsignedVarInt() - 1;
      let records: Uint8Array | null = null;
      if (size > 0) {
        // one contiguous slice (a copy only where the response spans socket chunks)
        records = r.buffer.slice(r.position, r.position + size);
        r.skip(size);
      }
      return {
        partition,
        errorCode: partitionError,
        highWatermark,
        lastStableOffset,
        abortedTransactions,
        records,
      };
    }),
  }));
}

function send(
  connection: Connection,
  request: () => ReturnType<typeof fetchV12.createRequest>,
): Promise<RawTopic[]> {
  return new Promise((resolve, reject) => {
    connection.send(
      FETCH_API_KEY,
      FETCH_VERSION,
      request,
      parseFetchResponse,
      true,
      true,
      (error, topics) => {
        if (error) reject(error);
        else resolve(topics as RawTopic[]);
      },
    );
  });
}

export async function fetchPartitions(
  client: KafkaConsumer,
  pool: ConnectionPool,
  positions: readonly FetchPosition[],
  limits: FetchLimits,
): Promise<FetchedPartition[]> {
  if (positions.length === 0) return [];
  const retries = limits.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(client, pool, positions, limits, attempt > 0);
    } catch (error) {
      const retriable =
        STALE_LEADER_ERRORS.some((apiId) => hasApiError(error, apiId)) ||
        (error as { code?: unknown }).code === "PLT_KFK_NETWORK" ||
        (error as { canRetry?: unknown }).canRetry === true;
      if (!retriable || attempt >= retries) throw error;
      await Bun.sleep(limits.retryDelayMs ?? 300);
    }
  }
}

async function fetchOnce(
  client: KafkaConsumer,
  pool: ConnectionPool,
  positions: readonly FetchPosition[],
  limits: FetchLimits,
  refreshMetadata: boolean,
): Promise<FetchedPartition[]> {
  const topics = [...new Set(positions.map((position) => position.topic))];
  for (const topic of topics) {
    if (!client.topics.has(topic)) client.topics.track(topic);
  }
  const metadata = await client.metadata({ topics, forceUpdate: refreshMetadata });
  const byNode = new Map<number, Map<string, RequestPartition[]>>();
  for (const position of positions) {
    const partition = metadata.topics.get(position.topic)?.partitions[position.partition];
    if (partition === undefined) continue;
    let requests = byNode.get(partition.leader);
    if (requests === undefined) {
      requests = new Map();
      byNode.set(partition.leader, requests);
    }
    let request = requests.get(position.topic);
    if (request === undefined) {
      request = [];
      requests.set(position.topic, request);
    }
    request.push({
      partition: position.partition,
      currentLeaderEpoch: -1,
      fetchOffset: position.offset,
      lastFetchedEpoch: -1,
      partitionMaxBytes: limits.partitionBytes,
    });
  }
  const asked = new Map(
    positions.map((position) => [`${position.topic}#${position.partition}`, position.offset]),
  );
  const responses = await Promise.all(
    [...byNode].map(async ([node, requests]) => {
      const broker = metadata.brokers.get(node);
      if (broker === undefined) throw new ResponseError(FETCH_API_KEY, FETCH_VERSION, { "": [5, null] }, {});
      const connection = await pool.get(broker);
      const topicsOfRequest = [...requests].map(([topic, partitions]) => ({ topicId: topic, partitions }));
      return send(connection, () =>
        fetchV12.createRequest(
          limits.maxWaitMs,
          MIN_BYTES,
          limits.totalBytes,
          FetchIsolationLevels.READ_COMMITTED,
          NO_SESSION_ID,
          FINAL_EPOCH,
          topicsOfRequest,
          [],
          "",
        ),
      );
    }),
  );
  const failed: Record<string, [number, null]> = {};
  const answered: Array<{ topic: string; raw: RawPartition; fromOffset: bigint }> = [];
  const sources: BatchSource[] = [];
  for (const response of responses) {
    for (const { topic, partitions } of response) {
      for (const raw of partitions) {
        const fromOffset = asked.get(`${topic}#${raw.partition}`);
        if (fromOffset === undefined) continue;
        if (raw.errorCode !== 0) {
          failed[`/${topic}/${raw.partition}`] = [raw.errorCode, null];
          continue;
        }
        answered.push({ topic, raw, fromOffset });
        if (raw.records !== null)
          sources.push({
            topic,
            partition: raw.partition,
            bytes: raw.records,
            fromOffset,
            abortedTransactions: raw.abortedTransactions,
          });
      }
    }
  }
  // one partition's error fails the round before anything is decoded
  if (Object.keys(failed).length > 0) throw new ResponseError(FETCH_API_KEY, FETCH_VERSION, failed, {});
  const decoded = await (limits.decoder ?? decodeInPlace)(sources, limits.decode);
  const fetched: FetchedPartition[] = [];
  let next = 0;
  for (const { topic, raw, fromOffset } of answered) {
    const records = raw.records === null ? { records: [], nextOffset: undefined } : decoded[next++]!;
    fetched.push({
      ...records,
      topic,
      partition: raw.partition,
      fromOffset,
      highWatermark: raw.highWatermark,
      readableEnd: raw.lastStableOffset >= 0n ? raw.lastStableOffset : raw.highWatermark,
      bytes: raw.records?.byteLength ?? 0,
    });
  }
  return fetched;
}
