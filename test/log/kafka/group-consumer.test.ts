import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import type { Consumer as KafkaConsumer, ConsumerOptions as KafkaConsumerOptions } from "@platformatic/kafka";
import { sharedBatchDecodeThread } from "../../../log/kafka/batch-decode-offload.ts";
import { GroupConsumer } from "../../../log/kafka/group-consumer.ts";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { KafkaLog } from "../../../log/kafka/kafka-log.ts";
import type { ResolvedKafkaLogOptions } from "../../../log/kafka/kafka-options.ts";
import type { Log, TopicPartition } from "../../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { removeScratch } from "./scratch-topics.ts";

/**
 * @platformatic/kafka rejoins the group from inside a commit that meets a rebalance
 * (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION: its OffsetCommit path calls joinGroup, then retries
 * the commit), and the join first awaits our `protocolsMetadata` hook, where partitions are
 * revoked. The client below plays exactly that; the real library needs a broker and a timing
 * window to show it, which no test can hold still.
 */
class RejoiningClient extends EventEmitter {
  assignments: { topic: string; partitions: number[] }[] | null = [{ topic: "readings", partitions: [0, 1] }];
  readonly topics = { trackAll: () => {} };
  memberId: string | null = "member-1";
  commitsSent = 0;
  constructor(readonly options: KafkaConsumerOptions<Buffer, Buffer, Buffer, Buffer>) {
    super();
  }
  async joinGroup(): Promise<string> {
    queueMicrotask(() => this.emit("consumer:group:join"));
    return "member-1";
  }
  async listCommittedOffsets(): Promise<Map<string, bigint[]>> {
    return new Map([["readings", [5n, 5n]]]);
  }
  /** the commit meets a rebalance that takes partition 1 away: rejoin first, then commit */
  async commit(): Promise<void> {
    this.commitsSent++;
    this.assignments = [{ topic: "readings", partitions: [0] }];
    // the library awaits this hook of its options before every JoinGroup
    await (this.options as { protocolsMetadata?: () => Promise<unknown> }).protocolsMetadata?.();
  }
  leaveGroup(_force: boolean, callback: (error?: Error) => void): void {
    callback();
  }
  async close(): Promise<void> {}
}

const config = {
  clientId: "test",
  brokers: ["127.0.0.1:1"],
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 15_000,
  retries: 0,
  retryDelayMs: 100,
  connectTimeoutMs: 1_000,
  requestTimeoutMs: 1_000,
  partitionFetchBytes: 1 << 20,
  fetchBytes: 1 << 20,
} as unknown as ResolvedKafkaLogOptions;

const log = {
  fail: (error: unknown) =>
    error instanceof PlatformError
      ? error
      : new PlatformError(ErrorCodes.LOG_BROKER_UNAVAILABLE, String(error)),
  listOffset: async () => 0n,
} as unknown as KafkaLog;

test("a commit that makes the library rejoin fails with LOG_REBALANCE instead of waiting for a revocation that waits for it", async () => {
  const revoked: TopicPartition[][] = [];
  let checkpoint: Promise<unknown> = Promise.resolve();
  const consumer = new GroupConsumer(
    {
      groupId: "app",
      topics: ["readings"],
      rebalance: {
        onAssigned: () => {},
        // as the engines do: the revocation's checkpoint waits for the checkpoint in flight
        onRevoked: async (partitions) => {
          await checkpoint.catch(() => undefined);
          revoked.push([...partitions]);
        },
      },
    },
    config,
    log,
    () => {},
    (options) => new RejoiningClient(options) as unknown as KafkaConsumer,
  );
  await Bun.sleep(10); // joined, partitions 0 and 1 assigned
  expect(consumer.assignment().map((tp) => tp.partition)).toEqual([0, 1]);

  checkpoint = consumer.commit([{ topic: "readings", partition: 1, offset: 9 }]);
  const outcome = await Promise.race([
    checkpoint.then(
      () => "committed",
      (error: unknown) => (error instanceof PlatformError ? error.code : String(error)),
    ),
    Bun.sleep(2_000).then(() => "deadlocked"),
  ]);

  expect(outcome).toBe(ErrorCodes.LOG_REBALANCE);
  await Bun.sleep(10);
  expect(revoked).toEqual([[{ topic: "readings", partition: 1 }]]);
  expect(consumer.assignment().map((tp) => tp.partition)).toEqual([0]);
  await consumer.close();
});

test("a commit while the member is out of the group (rejoining after UNKNOWN_MEMBER_ID) is refused with LOG_REBALANCE, not sent", async () => {
  // the library would send it with a null member id; the broker cannot parse that and closes the
  // connection, failing the rejoin's requests on it too
  let client: RejoiningClient | undefined;
  const consumer = new GroupConsumer(
    { groupId: "app", topics: ["readings"] },
    config,
    log,
    () => {},
    (options) => {
      client = new RejoiningClient(options);
      return client as unknown as KafkaConsumer;
    },
  );
  await Bun.sleep(10);
  client!.memberId = null;
  const refused = await consumer
    .commit([{ topic: "readings", partition: 0, offset: 3 }])
    .catch((error) => error);
  expect(refused).toBeInstanceOf(PlatformError);
  expect((refused as PlatformError).code).toBe(ErrorCodes.LOG_REBALANCE);
  expect(client!.commitsSent).toBe(0);
  await consumer.close();
});

test("partitions of a member the coordinator forgot (its session expired) are lost, not revoked: onLost, never onRevoked", async () => {
  const revoked: number[][] = [];
  const lost: number[][] = [];
  let client: RejoiningClient | undefined;
  const consumer = new GroupConsumer(
    {
      groupId: "app",
      topics: ["readings"],
      rebalance: {
        onRevoked: (partitions) => {
          revoked.push(partitions.map((tp) => tp.partition));
        },
        onLost: (partitions) => {
          lost.push(partitions.map((tp) => tp.partition));
        },
      },
    },
    config,
    log,
    () => {},
    (options) => {
      client = new RejoiningClient(options);
      return client as unknown as KafkaConsumer;
    },
  );
  await Bun.sleep(10);
  // UNKNOWN_MEMBER_ID on a heartbeat: the library forgets its member id and rejoins
  client!.memberId = null;
  await (
    client as unknown as { options: { protocolsMetadata: () => Promise<unknown> } }
  ).options.protocolsMetadata();
  expect(lost).toEqual([[0, 1]]);
  expect(revoked).toEqual([]);
  expect(consumer.assignment()).toEqual([]);
  await consumer.close();
});

describe.skipIf(skipKafka)("a group consumer's fetch rounds against the real broker", () => {
  test("when a response's byte limit holds one partition's data, the rounds take turns, so no partition waits for another to drain (regression: a fixed order)", async () => {
    await requireBroker();
    // 64 KiB per response and per partition: one partition fills a whole response
    const log = await openKafkaLog({
      brokers,
      clientId: "rounds-test",
      partitionFetchBytes: 64 * 1024,
      fetchBytes: 64 * 1024,
      compression: "none",
    });
    const topic = `rounds.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
    try {
      await log.createTopic({ name: topic, partitions: 3 });
      const value = new Uint8Array(200).fill(120);
      // 2,000 records of ~230 bytes per partition, ~7 responses each, in batches of 100 (~23 KiB):
      // a broker sends a first batch larger than the limit whole (KIP-74)
      for (const partition of [0, 1, 2])
        for (let batch = 0; batch < 20; batch++)
          await log.append(
            Array.from({ length: 100 }, (_, i) => ({ topic, partition, key: `k${i}`, value })),
          );
      const consumer = log.consumer({ groupId: `${topic}-group`, topics: [topic], startFrom: "earliest" });
      try {
        const seen = new Map<number, number>();
        let total = 0;
        const giveUpAt = Date.now() + 30_000;
        // about four responses' worth, a third of what partition 0 alone holds
        while (total < 1_000 && Date.now() < giveUpAt)
          for (const record of await consumer.poll({ maxRecords: 100, timeoutMs: 500 })) {
            seen.set(record.partition, (seen.get(record.partition) ?? 0) + 1);
            total++;
          }
        expect(total).toBeGreaterThanOrEqual(1_000);
        expect([...seen.keys()].sort()).toEqual([0, 1, 2]);
      } finally {
        await consumer.close();
      }
    } finally {
      await log.close();
    }
  });
});

describe.skipIf(skipKafka)("a group consumer whose responses are decoded on the batch decode thread", () => {
  test("reads every record once, in order per partition, exactly as a consumer decoding in place", async () => {
    await requireBroker();
    const topic = `offload.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
    const writer = await openKafkaLog({ brokers, clientId: "offload-test" });
    // every response crosses (1 byte), or none does (Infinity)
    const across = await openKafkaLog({ brokers, clientId: "offload-test-across", decodeThreadBytes: 1 });
    const inPlace = await openKafkaLog({
      brokers,
      clientId: "offload-test-in-place",
      decodeThreadBytes: Number.POSITIVE_INFINITY,
    });
    const groups: string[] = [];
    try {
      await writer.createTopic({ name: topic, partitions: 3 });
      for (let batch = 0; batch < 6; batch++)
        await writer.append(
          Array.from({ length: 500 }, (_, i) => ({
            topic,
            key: `sensor-${(batch * 500 + i) % 97}`,
            value: new TextEncoder().encode(`{"n":${batch * 500 + i},"pad":"${"x".repeat(i % 50)}"}`),
            headers: [{ key: "ingested_at", value: String(batch * 500 + i) }],
          })),
        );
      const readAll = async (log: Log) => {
        const groupId = `${topic}-${groups.length}`;
        groups.push(groupId);
        const consumer = log.consumer({ groupId, topics: [topic], startFrom: "earliest" });
        const read: string[] = [];
        try {
          const giveUpAt = Date.now() + 30_000;
          while (read.length < 3_000 && Date.now() < giveUpAt)
            for (const r of await consumer.poll({ maxRecords: 400, timeoutMs: 500 }))
              read.push(
                `${r.partition}/${r.offset} ${r.key} ${new TextDecoder().decode(r.value!)} ${r.headers[0]?.value}`,
              );
        } finally {
          await consumer.close();
        }
        return read;
      };
      const offloadedBefore = sharedBatchDecodeThread().counts.offloaded;
      const viaThread = await readAll(across);
      expect(sharedBatchDecodeThread().counts.offloaded).toBeGreaterThan(offloadedBefore);
      const viaPlace = await readAll(inPlace);
      expect(viaThread.length).toBe(3_000);
      // the same records; each partition's in offset order, whatever the interleaving of partitions
      const byPartition = (read: string[]) =>
        [0, 1, 2].map((p) => read.filter((line) => line.startsWith(`${p}/`)));
      expect(byPartition(viaThread)).toEqual(byPartition(viaPlace));
      for (const lines of byPartition(viaThread)) {
        const offsets = lines.map((line) => Number(line.split(" ")[0]!.split("/")[1]));
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
    } finally {
      await Promise.all([writer.close(), across.close(), inPlace.close()]);
      await removeScratch({ topics: [topic], groups });
    }
  });
});

describe.skipIf(skipKafka)("a group consumer handing out a round's records in small polls", () => {
  test("polls that cut across partitions' runs hand out every record once, in order per partition, and the lag counts what is still buffered", async () => {
    await requireBroker();
    const topic = `runs.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
    const log = await openKafkaLog({ brokers, clientId: "runs-test" });
    const groupId = `${topic}-group`;
    try {
      await log.createTopic({ name: topic, partitions: 3 });
      for (const partition of [0, 1, 2])
        await log.append(
          Array.from({ length: 50 + partition * 10 }, (_, i) => ({
            topic,
            partition,
            key: `k${i}`,
            value: new TextEncoder().encode(String(i)),
          })),
        );
      const total = 50 + 60 + 70;
      const consumer = log.consumer({ groupId, topics: [topic], startFrom: "earliest" });
      try {
        const read: Array<{ partition: number; offset: number }> = [];
        const giveUpAt = Date.now() + 30_000;
        let checkedLag = false;
        // 7 at a time: most polls end inside one partition's run and begin the next
        while (read.length < total && Date.now() < giveUpAt) {
          const polled = await consumer.poll({ maxRecords: 7, timeoutMs: 500 });
          expect(polled.length).toBeLessThanOrEqual(7);
          for (const { partition, offset } of polled) read.push({ partition, offset });
          if (!checkedLag && polled.length > 0) {
            // every partition read to its end once fetched: its lag is what is not handed out yet
            const handedOut = [0, 1, 2].map((p) => read.filter((r) => r.partition === p).length);
            const lags = [0, 1, 2].map((p) => consumer.currentLag({ topic, partition: p }));
            for (const [p, lag] of lags.entries())
              if (lag !== undefined) expect(lag).toBe(50 + p * 10 - handedOut[p]!);
            checkedLag = lags.some((lag) => lag !== undefined);
          }
        }
        expect(checkedLag).toBe(true);
        expect(read.length).toBe(total);
        for (const partition of [0, 1, 2])
          expect(read.filter((r) => r.partition === partition).map((r) => r.offset)).toEqual(
            Array.from({ length: 50 + partition * 10 }, (_, i) => i),
          );
        for (const partition of [0, 1, 2]) expect(consumer.currentLag({ topic, partition })).toBe(0);
      } finally {
        await consumer.close();
      }
    } finally {
      await log.close();
      await removeScratch({ topics: [topic], groups: [groupId] });
    }
  });
});
