import type { Consumer, Log, LogRecord } from "../log/log.ts";
import type { RecordSealer } from "./record-sealer.ts";

/**
 * The node's log with sensitive fields sealed at rest: every append to a topic the sealer covers
 * is sealed on its way in, every record read or polled from one is opened on its way out. Producers
 * and consumers keep handling plain records; what Kafka (or the embedded log) and every copy of
 * it hold is the sealed form. Confluent's client-side field level encryption sits at the same
 * place, in the serializers.
 */
export function sealedLog(log: Log, sealer: RecordSealer): Log {
  const open = (records: LogRecord[]): LogRecord[] =>
    records.map((r) => (sealer.covers(r.topic) ? { ...r, value: sealer.open(r.topic, r.key, r.value) } : r));
  const openConsumer = (consumer: Consumer): Consumer => ({
    assignment: () => consumer.assignment(),
    poll: async (options) => open(await consumer.poll(options)),
    commit: (offsets) => consumer.commit(offsets),
    committed: (partition) => consumer.committed(partition),
    seek: (position) => consumer.seek(position),
    currentLag: (partition) => consumer.currentLag(partition),
    close: () => consumer.close(),
  });
  return {
    createTopic: (spec) => log.createTopic(spec),
    topicConfig: (topic) => log.topicConfig(topic),
    partitions: (topic) => log.partitions(topic),
    append: (records) =>
      log.append(
        records.map((r) =>
          sealer.covers(r.topic) ? { ...r, value: sealer.seal(r.topic, r.key, r.value) } : r,
        ),
      ),
    read: async (partition, options) => open(await log.read(partition, options)),
    endOffset: (partition) => log.endOffset(partition),
    consumer: (options) => openConsumer(log.consumer(options)),
    groupOffsets: (groupId, topic) => log.groupOffsets(groupId, topic),
    close: () => log.close(),
  };
}
