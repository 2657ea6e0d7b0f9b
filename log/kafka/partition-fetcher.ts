import type { ConnectionPool, FetchOptions, Consumer as KafkaConsumer } from "@platformatic/kafka";
import { type DecodedBatches, fromKafkaBatches } from "./kafka-records.ts";

/**
 * One Fetch round (Kafka protocol, Fetch API v12+ with topic ids): ask each partition's leader
 * for records from a given offset, on a connection pool of its own so a long-polling fetch never
 * delays the group's heartbeats and commits on the coordinator connection.
 */

type FetchRequestTopic = FetchOptions<Buffer, Buffer, Buffer, Buffer>["topics"][number];

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
}

export interface FetchLimits {
  readonly maxWaitMs: number;
  readonly partitionBytes: number;
  readonly totalBytes: number;
}

export async function fetchPartitions(
  client: KafkaConsumer,
  pool: ConnectionPool,
  positions: readonly FetchPosition[],
  limits: FetchLimits,
): Promise<FetchedPartition[]> {
  if (positions.length === 0) return [];
  const topics = [...new Set(positions.map((position) => position.topic))];
  for (const topic of topics) {
    if (!client.topics.has(topic)) client.topics.track(topic);
  }
  const metadata = await client.metadata({ topics });
  const byNode = new Map<number, Map<string, FetchRequestTopic>>();
  const topicNames = new Map<string, string>();
  for (const position of positions) {
    const topic = metadata.topics.get(position.topic);
    const partition = topic?.partitions[position.partition];
    if (topic === undefined || partition === undefined) continue;
    topicNames.set(topic.id, position.topic);
    let requests = byNode.get(partition.leader);
    if (requests === undefined) {
      requests = new Map();
      byNode.set(partition.leader, requests);
    }
    let request = requests.get(topic.id);
    if (request === undefined) {
      request = { topicId: topic.id, partitions: [] };
      requests.set(topic.id, request);
    }
    request.partitions.push({
      partition: position.partition,
      fetchOffset: position.offset,
      currentLeaderEpoch: -1,
      lastFetchedEpoch: -1,
      partitionMaxBytes: limits.partitionBytes,
    });
  }
  const asked = new Map(
    positions.map((position) => [`${position.topic}#${position.partition}`, position.offset]),
  );
  const responses = await Promise.all(
    [...byNode].map(([node, requests]) =>
      client.fetch({
        node,
        topics: [...requests.values()],
        connectionPool: pool,
        maxWaitTime: limits.maxWaitMs,
        minBytes: 1,
        maxBytes: limits.totalBytes,
      }),
    ),
  );
  const fetched: FetchedPartition[] = [];
  for (const response of responses) {
    for (const topicResponse of response.responses) {
      const topic = topicNames.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const partitionResponse of topicResponse.partitions) {
        const fromOffset = asked.get(`${topic}#${partitionResponse.partitionIndex}`);
        // an incremental fetch session may answer for partitions this round did not ask about
        if (fromOffset === undefined) continue;
        const decoded = fromKafkaBatches(
          topic,
          partitionResponse.partitionIndex,
          partitionResponse.records ?? [],
          fromOffset,
        );
        fetched.push({
          ...decoded,
          topic,
          partition: partitionResponse.partitionIndex,
          fromOffset,
          highWatermark: partitionResponse.highWatermark,
        });
      }
    }
  }
  return fetched;
}
