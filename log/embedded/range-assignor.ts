import type { TopicPartition } from "../log.ts";

export interface GroupMember {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/**
 * Kafka's RangeAssignor (org.apache.kafka.clients.consumer.RangeAssignor): per topic, the
 * members subscribed to it sorted by member id each take a contiguous range of
 * floor(partitions / members) partitions, and the first (partitions mod members) take one more.
 * Deterministic, so every member computes the same plan from the same member list.
 */
export function assignRanges(
  members: readonly GroupMember[],
  partitionsOf: (topic: string) => number,
): Map<string, TopicPartition[]> {
  const plan = new Map<string, TopicPartition[]>();
  for (const member of members) plan.set(member.memberId, []);
  const topics = [...new Set(members.flatMap((member) => member.topics))].sort();
  for (const topic of topics) {
    const subscribers = members
      .filter((member) => member.topics.includes(topic))
      .map((member) => member.memberId)
      .sort();
    const partitions = partitionsOf(topic);
    const share = Math.floor(partitions / subscribers.length);
    const extra = partitions % subscribers.length;
    let next = 0;
    subscribers.forEach((memberId, index) => {
      const count = share + (index < extra ? 1 : 0);
      const owned = plan.get(memberId)!;
      for (let partition = next; partition < next + count; partition++) owned.push({ topic, partition });
      next += count;
    });
  }
  return plan;
}
