import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedLog, openEmbeddedLog } from "../../../log/embedded/index.ts";
import type { Consumer } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";

const value = new Uint8Array([1]);

async function pollUntil(consumers: Consumer[], done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    for (const consumer of consumers) await consumer.poll({ timeoutMs: 20 });
  }
}

describe("embedded consumer", () => {
  let dir: string;
  let log: EmbeddedLog;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "embedded-consumer-"));
    // a long interval poll, so only the in-process notifier can wake a waiting poll quickly
    log = openEmbeddedLog({ path: join(dir, "log.db"), pollIntervalMs: 5_000, heartbeatIntervalMs: 100 });
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a waiting poll wakes as soon as a record is appended in the same process", async () => {
    await log.createTopic({ name: "t", partitions: 2 });
    const consumer = log.consumer({ groupId: "g", topics: ["t"] });
    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([]);
    const started = Date.now();
    const waiting = consumer.poll({ timeoutMs: 4_000 });
    await Bun.sleep(30);
    await log.append([{ topic: "t", key: "k", value }]);
    expect(await waiting).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("a member that found its partitions empty reads what another log on the same file appends after", async () => {
    // regression guard for the known partition ends: a consumer skips partitions it knows are
    // empty, and must learn of another connection's commits (another process sharing the file)
    const other = openEmbeddedLog({ path: join(dir, "log.db"), pollIntervalMs: 20 });
    try {
      await log.createTopic({ name: "t", partitions: 2 });
      const consumer = log.consumer({ groupId: "g", topics: ["t"] });
      expect(await consumer.poll({ timeoutMs: 0 })).toEqual([]);
      await other.append([
        { topic: "t", key: null, value, partition: 0 },
        { topic: "t", key: null, value, partition: 1 },
      ]);
      expect((await consumer.poll({ timeoutMs: 0 })).map((record) => record.partition).sort()).toEqual([
        0, 1,
      ]);
    } finally {
      await other.close();
    }
  });

  test("poll returns at most maxRecords, an equal share from each partition", async () => {
    await log.createTopic({ name: "t", partitions: 4 });
    for (let partition = 0; partition < 4; partition++) {
      await log.append(Array.from({ length: 100 }, () => ({ topic: "t", key: null, value, partition })));
    }
    const consumer = log.consumer({ groupId: "g", topics: ["t"] });
    const batch = await consumer.poll({ maxRecords: 40 });
    expect(batch).toHaveLength(40);
    const perPartition = [0, 1, 2, 3].map((p) => batch.filter((record) => record.partition === p).length);
    expect(perPartition).toEqual([10, 10, 10, 10]);
  });

  test("a partition with few records leaves its share to the busy ones", async () => {
    await log.createTopic({ name: "t", partitions: 2 });
    await log.append([{ topic: "t", key: null, value, partition: 0 }]);
    await log.append(Array.from({ length: 50 }, () => ({ topic: "t", key: null, value, partition: 1 })));
    const consumer = log.consumer({ groupId: "g", topics: ["t"] });
    expect(await consumer.poll({ maxRecords: 20 })).toHaveLength(20);
  });

  test("a member subscribed before its topic exists gets the partitions once the topic is created", async () => {
    const consumer = log.consumer({ groupId: "g", topics: ["later"] });
    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([]);
    expect(consumer.assignment()).toEqual([]);
    await log.createTopic({ name: "later", partitions: 3 });
    await pollUntil([consumer], () => consumer.assignment().length === 3);
  });

  test("a member cannot commit a partition another member owns", async () => {
    await log.createTopic({ name: "t", partitions: 2 });
    const one = log.consumer({ groupId: "g", topics: ["t"], memberId: "a" });
    const two = log.consumer({ groupId: "g", topics: ["t"], memberId: "b" });
    await pollUntil([one, two], () => one.assignment().length === 1 && two.assignment().length === 1);
    const theirs = two.assignment()[0]!;
    try {
      await one.commit([{ ...theirs, offset: 1 }]);
      throw new Error("commit was accepted");
    } catch (error) {
      expect(isPlatformError(error, ErrorCodes.LOG_REBALANCE)).toBe(true);
    }
    expect(await two.committed(theirs)).toBeUndefined();
  });

  test("onRevoked may commit the partitions it is losing before they move", async () => {
    await log.createTopic({ name: "t", partitions: 2 });
    await log.append(Array.from({ length: 10 }, (_, i) => ({ topic: "t", key: `k${i}`, value })));
    let committedOnRevoke = 0;
    const one: Consumer = log.consumer({
      groupId: "g",
      topics: ["t"],
      rebalance: {
        onRevoked: async (partitions) => {
          await one.commit(partitions.map((tp) => ({ ...tp, offset: 1 })));
          committedOnRevoke += partitions.length;
        },
      },
    });
    await pollUntil([one], () => one.assignment().length === 2);
    await one.close();
    expect(committedOnRevoke).toBe(2);
    const two = log.consumer({ groupId: "g", topics: ["t"] });
    expect(await two.committed({ topic: "t", partition: 0 })).toBe(1);
  });

  test("closing the log while a poll waits ends that poll with no records", async () => {
    await log.createTopic({ name: "t", partitions: 1 });
    const consumer = log.consumer({ groupId: "g", topics: ["t"] });
    await consumer.poll({ timeoutMs: 0 });
    const waiting = consumer.poll({ timeoutMs: 3_000 });
    await Bun.sleep(20);
    await log.close();
    expect(await waiting).toEqual([]);
  });

  test("a member whose position is behind records retention removed moves over the gap, so its lag reaches 0 (regression: an end it could never read to kept it behind, and its partition never went idle)", async () => {
    const now = Date.now();
    await log.createTopic({ name: "r", partitions: 1, retentionMs: 10_000 });
    await log.append([0, 1, 2].map(() => ({ topic: "r", key: "s", value, timestamp: now - 60_000 })));
    const consumer = log.consumer({ groupId: "g", topics: ["r"], startFrom: "earliest" });
    await pollUntil([consumer], () => consumer.assignment().length === 1);
    consumer.seek({ topic: "r", partition: 0, offset: 0 });
    expect((await log.maintain(now)).expired).toBe(3);
    expect(consumer.currentLag({ topic: "r", partition: 0 })).toBe(3);
    expect(await consumer.poll({ timeoutMs: 0 })).toEqual([]);
    expect(consumer.currentLag({ topic: "r", partition: 0 })).toBe(0);
    await log.append([{ topic: "r", key: "s", value }]);
    expect((await consumer.poll({ timeoutMs: 1_000 })).map((record) => record.offset)).toEqual([3]);
    await consumer.close();
  });

  test("seek on a partition the member does not own fails with LOG_PARTITION_INVALID", async () => {
    await log.createTopic({ name: "t", partitions: 1 });
    const consumer = log.consumer({ groupId: "g", topics: ["t"] });
    expect(() => consumer.seek({ topic: "t", partition: 0, offset: 0 })).toThrow(
      ErrorCodes.LOG_PARTITION_INVALID,
    );
  });
});
