import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConnectionPool, Consumer as KafkaConsumer } from "@platformatic/kafka";
import { libraryFetch } from "../../../bench/peers/library-fetch.ts";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import { fetchPartitions } from "../../../log/kafka/partition-fetcher.ts";
import type { Log, LogRecord } from "../../../log/log.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";

/**
 * What makes the consume benchmark's comparison fair: the baseline (the library's decode, then
 * the old conversion) and our decode bring the same log records from the same broker bytes.
 */

const LIMITS = { maxWaitMs: 0, partitionBytes: 1024 * 1024, totalBytes: 16 * 1024 * 1024 };
const comparable = (records: readonly LogRecord[]) =>
  [...records]
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    .map((r) => ({ ...r, value: r.value === null ? null : [...r.value] }));

describe.skipIf(skipKafka)("the consume benchmark's library baseline", () => {
  let log: Log;
  let client: KafkaConsumer;
  let pool: ConnectionPool;

  beforeAll(async () => {
    await requireBroker();
    log = await openKafkaLog({ brokers, clientId: "library-fetch-test" });
    client = new KafkaConsumer({
      clientId: "library-fetch-test",
      groupId: "library-fetch-test",
      bootstrapBrokers: [...brokers],
    });
    pool = new ConnectionPool("library-fetch-test", {});
  });
  afterAll(async () => {
    await Promise.allSettled([client?.close(), pool?.close()]);
    await log?.close();
  });

  test("brings the same records as our decode, from the start and from inside a batch", async () => {
    const topic = `library-fetch.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
    await log.createTopic({ name: topic, partitions: 3 });
    await log.append(
      Array.from({ length: 300 }, (_, i) => ({
        topic,
        key: `sensor-${i % 17}`,
        value: i % 50 === 0 ? null : new TextEncoder().encode(`{"i":${i}}`),
        headers: i % 3 === 0 ? [{ key: "ingested_at", value: String(i) }] : [],
      })),
    );
    for (const from of [0n, 5n]) {
      const positions = new Map([0, 1, 2].map((partition) => [partition, from]));
      const theirs = await libraryFetch(client, pool, topic, positions, LIMITS);
      const ours = await fetchPartitions(
        client,
        pool,
        [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
        LIMITS,
      );
      const oursRecords = ours.flatMap((partition) => partition.records);
      expect(oursRecords.length).toBe(300 - (from === 0n ? 0 : 15));
      expect(comparable(oursRecords)).toEqual(comparable(theirs.records));
      for (const partition of ours)
        expect(theirs.nextOffsets.get(partition.partition)).toBe(partition.nextOffset!);
    }
  });
});
