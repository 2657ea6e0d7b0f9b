import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type CompressionAlgorithmValue, Producer } from "@platformatic/kafka";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { Consumer, Log, LogRecord } from "../../../log/log.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";

/**
 * Our Fetch and record batch decode against the bytes a real broker sends: every codec a
 * producer may use, and transactions (read_committed) as the broker marks them.
 */

const text = new TextEncoder();
const unique = (what: string) =>
  `fetcher.${what}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;

const summary = (records: readonly LogRecord[]) =>
  records.map((r) => ({
    offset: r.offset,
    key: r.key,
    value: r.value === null ? null : new TextDecoder().decode(r.value),
    headers: r.headers,
  }));

describe.skipIf(skipKafka)("Kafka fetch and decode against the real broker", () => {
  let log: Log;

  beforeAll(async () => {
    await requireBroker();
    log = await openKafkaLog({ brokers, clientId: "fetcher-test" });
  });
  afterAll(async () => {
    await log?.close();
  });

  test.each(["none", "gzip", "snappy", "lz4", "zstd"] as CompressionAlgorithmValue[])(
    "records a producer compressed with %s read back equal, from the start and from inside a batch",
    async (compression) => {
      const topic = unique(compression);
      await log.createTopic({ name: topic, partitions: 1 });
      const writer = await openKafkaLog({ brokers, clientId: `fetcher-test-${compression}`, compression });
      try {
        await writer.append(
          Array.from({ length: 40 }, (_, i) => ({
            topic,
            partition: 0,
            key: i % 7 === 0 ? null : `sensor-${i}`,
            value: i % 9 === 0 ? null : text.encode(`{"i":${i}}`),
            headers: i % 2 === 0 ? [{ key: "ingested_at", value: String(i) }] : [],
          })),
        );
      } finally {
        await writer.close();
      }
      const all = await log.read({ topic, partition: 0 }, { maxRecords: 100 });
      expect(summary(all)).toEqual(
        Array.from({ length: 40 }, (_, i) => ({
          offset: i,
          key: i % 7 === 0 ? null : `sensor-${i}`,
          value: i % 9 === 0 ? null : `{"i":${i}}`,
          headers: i % 2 === 0 ? [{ key: "ingested_at", value: String(i) }] : [],
        })),
      );
      const tail = await log.read({ topic, partition: 0 }, { fromOffset: 33, maxRecords: 100 });
      expect(tail.map((r) => r.offset)).toEqual([33, 34, 35, 36, 37, 38, 39]);
    },
  );

  test("read_committed: an aborted transaction's records are never delivered, a committed one's are, and reading goes on past both", async () => {
    const topic = unique("tx");
    await log.createTopic({ name: topic, partitions: 1 });
    const producer = new Producer({
      clientId: "fetcher-test-tx",
      bootstrapBrokers: [...brokers],
      idempotent: true,
      transactionalId: `${topic}-tx`,
      acks: -1,
    });
    const send = async (keys: string[], outcome: "commit" | "abort") => {
      const transaction = await producer.beginTransaction();
      await transaction.send({
        messages: keys.map((key) => ({
          topic,
          partition: 0,
          key: Buffer.from(key),
          value: Buffer.from(key),
        })),
      });
      if (outcome === "commit") await transaction.commit();
      else await transaction.abort();
    };
    try {
      await send(["a1", "a2"], "abort");
      await log.append([{ topic, partition: 0, key: "plain", value: text.encode("plain") }]);
      await send(["c1", "c2"], "commit");
      await send(["a3"], "abort");
      await log.append([{ topic, partition: 0, key: "last", value: text.encode("last") }]);
    } finally {
      await producer.close();
    }
    // EndTxn is answered before the coordinator has written the markers into the partition, and a
    // read_committed fetch stops at the last stable offset until then: wait for "last" (the
    // offset past the final ABORT marker) to be readable, which is the broker's business, not ours
    let read = await log.read({ topic, partition: 0 }, { maxRecords: 100 });
    const markersBy = Date.now() + 15_000;
    while (read.at(-1)?.key !== "last") {
      if (Date.now() > markersBy)
        throw new Error(
          `the last stable offset never passed the last marker: read ${read.map((r) => r.key)}`,
        );
      await Bun.sleep(50);
      read = await log.read({ topic, partition: 0 }, { maxRecords: 100 });
    }
    expect(read.map((r) => r.key)).toEqual(["plain", "c1", "c2", "last"]);

    const consumer = log.consumer({ groupId: `${topic}-group`, topics: [topic], startFrom: "earliest" });
    try {
      const seen: string[] = [];
      const giveUpAt = Date.now() + 30_000;
      while (seen.length < 4 && Date.now() < giveUpAt)
        for (const record of await consumer.poll({ timeoutMs: 500 })) seen.push(record.key!);
      expect(seen).toEqual(["plain", "c1", "c2", "last"]);
    } finally {
      await consumer.close();
    }
  });

  test("read_committed: a member's lag counts to the last stable offset, so an open transaction's records are not unread ones; unknown until a fetch answered", async () => {
    const topic = unique("lso");
    await log.createTopic({ name: topic, partitions: 1 });
    const tp = { topic, partition: 0 };
    const producer = new Producer({
      clientId: "fetcher-test-lso",
      bootstrapBrokers: [...brokers],
      idempotent: true,
      transactionalId: `${topic}-tx`,
      acks: -1,
    });
    const lagAtAssignment: (number | undefined)[] = [];
    let consumer: Consumer | undefined;
    try {
      await log.append([{ topic, partition: 0, key: "plain", value: text.encode("plain") }]);
      const transaction = await producer.beginTransaction();
      await transaction.send({
        messages: ["t1", "t2"].map((key) => ({
          topic,
          partition: 0,
          key: Buffer.from(key),
          value: Buffer.from(key),
        })),
      });
      // offsets 1 and 2 are on the log (the high watermark is 3), the last stable offset is 1:
      // counted to the high watermark, the lag would stay 2 until the transaction ends
      consumer = log.consumer({
        groupId: `${topic}-group`,
        topics: [topic],
        startFrom: "earliest",
        rebalance: {
          onAssigned: (partitions) => void lagAtAssignment.push(consumer?.currentLag(partitions[0]!)),
        },
      });
      const seen = await pollKeys(consumer, 1);
      expect(seen).toEqual(["plain"]);
      expect(lagAtAssignment).toEqual([undefined]);
      expect(consumer.currentLag(tp)).toBe(0);

      await transaction.commit();
      expect(await pollKeys(consumer, 2)).toEqual(["t1", "t2"]);
      // the commit marker at offset 3 is read past too: read to the end again
      expect(consumer.currentLag(tp)).toBe(0);
    } finally {
      await producer.close();
      await consumer?.close();
    }
  });
});

/** the keys of the next `count` records the consumer hands out */
async function pollKeys(consumer: Consumer, count: number): Promise<string[]> {
  const seen: string[] = [];
  const giveUpAt = Date.now() + 30_000;
  while (seen.length < count) {
    if (Date.now() > giveUpAt)
      throw new Error(`timed out waiting for ${count} records; got ${seen.join(",")}`);
    for (const record of await consumer.poll({ timeoutMs: 500 })) seen.push(record.key!);
  }
  return seen;
}
