import type { ConnectionPool, Consumer as KafkaConsumer, RecordsBatch } from "@platformatic/kafka";
import type { Header, LogRecord } from "../../log/log.ts";

/**
 * The baseline of the consume benchmark: the Fetch round as the Kafka adapter did it before it
 * decoded record batches itself (log/kafka/partition-fetcher.ts before 5954ec9): the library's
 * `fetch` parses every batch into objects, then each record is converted to a log record. Kept
 * here, not in log/, so the same run can measure both ways on the same topic.
 */

const IS_CONTROL_BATCH = 0b10_0000;
const decoder = new TextDecoder();

export interface LibraryFetched {
  readonly records: LogRecord[];
  readonly nextOffsets: Map<number, bigint>;
}

export async function libraryFetch(
  client: KafkaConsumer,
  pool: ConnectionPool,
  topic: string,
  positions: ReadonlyMap<number, bigint>,
  limits: { maxWaitMs: number; partitionBytes: number; totalBytes: number },
): Promise<LibraryFetched> {
  if (!client.topics.has(topic)) client.topics.track(topic);
  const metadata = await client.metadata({ topics: [topic] });
  const described = metadata.topics.get(topic)!;
  const byNode = new Map<number, { partition: number; fetchOffset: bigint }[]>();
  for (const [partition, offset] of positions) {
    const leader = described.partitions[partition]!.leader;
    byNode.set(leader, [...(byNode.get(leader) ?? []), { partition, fetchOffset: offset }]);
  }
  const responses = await Promise.all(
    [...byNode].map(([node, partitions]) =>
      client.fetch({
        node,
        topics: [
          {
            topicId: described.id,
            partitions: partitions.map((p) => ({
              ...p,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: limits.partitionBytes,
            })),
          },
        ],
        connectionPool: pool,
        maxWaitTime: limits.maxWaitMs,
        minBytes: 1,
        maxBytes: limits.totalBytes,
      }),
    ),
  );
  const records: LogRecord[] = [];
  const nextOffsets = new Map<number, bigint>();
  for (const response of responses)
    for (const topicResponse of response.responses)
      for (const partition of topicResponse.partitions) {
        const from = positions.get(partition.partitionIndex) ?? 0n;
        const next = convert(topic, partition.partitionIndex, partition.records ?? [], from, records);
        if (next !== undefined) nextOffsets.set(partition.partitionIndex, next);
      }
  return { records, nextOffsets };
}

/** fromKafkaBatches as it was */
function convert(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  fromOffset: bigint,
  into: LogRecord[],
): bigint | undefined {
  let nextOffset: bigint | undefined;
  const from = Number(fromOffset);
  for (const batch of batches) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (nextOffset === undefined || last + 1n > nextOffset) nextOffset = last + 1n;
    if ((batch.attributes & IS_CONTROL_BATCH) !== 0) continue;
    const firstOffset = Number(batch.firstOffset);
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const record of batch.records) {
      const offset = firstOffset + record.offsetDelta;
      if (offset < from) continue;
      into.push({
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
  return nextOffset;
}

function headersOf(pairs: ReadonlyArray<readonly [Buffer | null, Buffer | null]>): Header[] {
  return pairs.map(([key, value]) => ({
    key: key === null ? "" : decoder.decode(key),
    value: value === null ? "" : decoder.decode(value),
  }));
}
