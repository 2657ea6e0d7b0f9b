import type { Log } from "./log.ts";

/**
 * A consumer group's lag on one topic, per partition, as `kafka-consumer-groups --describe`
 * and kafka_exporter report it: the partition's end offset minus the group's committed offset.
 * Read from the group's committed offsets (OffsetFetch), not from a member's position, so any
 * node of the application reports the same figure for the whole group and a partition whose
 * owner died shows its lag growing instead of vanishing. A partition the group never committed
 * counts from 0: the group starts from the earliest record.
 */
export interface PartitionLag {
  readonly partition: number;
  readonly lag: number;
}

export async function consumerLag(log: Log, groupId: string, topic: string): Promise<PartitionLag[]> {
  const partitions = await log.partitions(topic);
  if (partitions === undefined) return [];
  const committed = await log.groupOffsets(groupId, topic);
  const ends = await Promise.all(
    Array.from({ length: partitions }, (_, partition) => log.endOffset({ topic, partition })),
  );
  return ends.map((end, partition) => ({
    partition,
    lag: Math.max(0, end - (committed.get(partition) ?? 0)),
  }));
}
