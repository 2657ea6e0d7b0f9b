import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Log } from "../../log/log.ts";
import { DEFAULT_RETENTION_MS } from "../../log/retention.ts";
import { type ErrorCode, ErrorCodes } from "../../messages/errors.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import { bytes, expectError, TEST_TIMEOUT_MS, text, unique } from "./log-contract-support.ts";
import { groupContract } from "./log-group.contract.ts";

/**
 * The Log contract: every adapter (embedded, kafka) runs this suite against a real backend.
 * Each test makes its own topics and groups with a random suffix, so the suite runs on a
 * database or broker that already holds data. Waits are bounded but generous: a Kafka
 * rebalance takes seconds.
 */
export interface OpenedLog {
  readonly log: Log;
  cleanup(): Promise<void>;
}

export function logContract(name: string, open: () => Promise<OpenedLog>): void {
  describe(`Log contract: ${name}`, () => {
    let opened: OpenedLog;
    let log: Log;

    beforeAll(async () => {
      opened = await open();
      log = opened.log;
    });
    afterAll(async () => {
      await opened.cleanup();
    });

    async function topicWith(partitions: number, compacted = false): Promise<string> {
      const topic = unique("topic");
      await log.createTopic({ name: topic, partitions, compacted });
      return topic;
    }

    test("createTopic makes a topic with the requested partitions and leaves an existing one as it is", async () => {
      const topic = await topicWith(3);
      expect(await log.partitions(topic)).toBe(3);
      await log.createTopic({ name: topic, partitions: 5 });
      expect(await log.partitions(topic)).toBe(3);
      expect(await log.partitions(unique("missing"))).toBeUndefined();
    });

    test("a keyed record goes to murmur2(key) mod partitions, and the same key always to the same partition", async () => {
      const topic = await topicWith(4);
      const keys = Array.from({ length: 24 }, (_, i) => `sensor_${i}`);
      const first = await log.append(keys.map((key) => ({ topic, key, value: bytes(key) })));
      const second = await log.append(keys.map((key) => ({ topic, key, value: bytes(key) })));
      keys.forEach((key, i) => {
        expect(first[i]!.partition).toBe(partitionFor(key, 4));
        expect(second[i]!.partition).toBe(first[i]!.partition);
      });
      expect(new Set(first.map((position) => position.partition)).size).toBeGreaterThan(1);
    });

    test("offsets in a partition start at 0 and grow by one per record across batches", async () => {
      const topic = await topicWith(2);
      const offsets: number[] = [];
      for (const size of [1, 4, 5]) {
        const batch = Array.from({ length: size }, (_, i) => ({
          topic,
          key: null,
          value: bytes(`${i}`),
          partition: 1,
        }));
        offsets.push(...(await log.append(batch)).map((position) => position.offset));
      }
      expect(offsets).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await log.endOffset({ topic, partition: 1 })).toBe(10);
      expect(await log.endOffset({ topic, partition: 0 })).toBe(0);
    });

    test("a batch keeps its order within each partition and positions come back in record order", async () => {
      const topic = await topicWith(3);
      const batch = Array.from({ length: 60 }, (_, i) => ({
        topic,
        key: `k${i % 5}`,
        value: bytes(`v${i}`),
      }));
      const positions = await log.append(batch);
      expect(positions.map((position) => position.topic)).toEqual(batch.map(() => topic));
      for (let partition = 0; partition < 3; partition++) {
        const stored = await log.read({ topic, partition }, { fromOffset: 0, maxRecords: 1000 });
        const expected = batch.filter((_, i) => positions[i]!.partition === partition);
        expect(stored.map((record) => text(record.value))).toEqual(
          expected.map((record) => text(record.value)),
        );
        stored.forEach((record, i) => {
          expect(record.offset).toBe(i);
        });
      }
      batch.forEach((record, i) => {
        expect(positions[i]!.partition).toBe(partitionFor(record.key, 3));
      });
    });

    test("read replays a partition from any offset and stops at maxRecords", async () => {
      const topic = await topicWith(2);
      await log.append(
        Array.from({ length: 10 }, (_, i) => ({ topic, key: null, value: bytes(`r${i}`), partition: 0 })),
      );
      const tail = await log.read({ topic, partition: 0 }, { fromOffset: 4 });
      expect(tail.map((record) => record.offset)).toEqual([4, 5, 6, 7, 8, 9]);
      const window = await log.read({ topic, partition: 0 }, { fromOffset: 4, maxRecords: 3 });
      expect(window.map((record) => text(record.value))).toEqual(["r4", "r5", "r6"]);
      expect(await log.read({ topic, partition: 0 }, { fromOffset: 10 })).toEqual([]);
    });

    test("keys, values, headers and timestamps round-trip, and a missing timestamp becomes the append time", async () => {
      const topic = await topicWith(1);
      const before = Date.now();
      await log.append([
        {
          topic,
          key: "sensor_7",
          value: bytes('{"temperature":21.5}'),
          timestamp: 1_700_000_000_123,
          headers: [
            { key: "schema", value: "sensor-reading/v1" },
            { key: "trace", value: "abc" },
          ],
        },
        { topic, key: null, value: new Uint8Array(0) },
      ]);
      const after = Date.now();
      const [withAll, empty] = await log.read({ topic, partition: 0 });
      expect(withAll!.key).toBe("sensor_7");
      expect(text(withAll!.value)).toBe('{"temperature":21.5}');
      expect(withAll!.timestamp).toBe(1_700_000_000_123);
      expect(withAll!.headers).toEqual([
        { key: "schema", value: "sensor-reading/v1" },
        { key: "trace", value: "abc" },
      ]);
      expect(empty!.key).toBeNull();
      expect(empty!.value?.byteLength).toBe(0);
      expect(empty!.headers).toEqual([]);
      expect(empty!.timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(empty!.timestamp).toBeLessThanOrEqual(after + 1000);
    });

    test("a null value is stored as a tombstone and reads back as null", async () => {
      const topic = await topicWith(1, true);
      await log.append([
        { topic, key: "k", value: bytes("v1") },
        { topic, key: "k", value: null },
      ]);
      const records = await log.read({ topic, partition: 0 });
      expect(records.map((record) => text(record.value))).toEqual(["v1", null]);
    });

    describe("retention and cleanup policy", () => {
      // both adapters are opened without a retention policy: every topic gets the default
      const cases: {
        name: string;
        spec: { partitions: number; compacted?: boolean; retentionMs?: number };
        config: { compacted: boolean; retentionMs: number | undefined };
      }[] = [
        {
          name: "a topic without a retention of its own keeps records for the default 7 days",
          spec: { partitions: 2 },
          config: { compacted: false, retentionMs: DEFAULT_RETENTION_MS },
        },
        {
          name: "a topic's own retention wins over the default",
          spec: { partitions: 1, retentionMs: 3_600_000 },
          config: { compacted: false, retentionMs: 3_600_000 },
        },
        {
          name: "a compacted topic (a changelog) keeps the latest record per key with no time retention",
          spec: { partitions: 2, compacted: true },
          config: { compacted: true, retentionMs: undefined },
        },
        {
          name: "a compacted topic with a retention of its own is compacted and deletes by time",
          spec: { partitions: 1, compacted: true, retentionMs: 86_400_000 },
          config: { compacted: true, retentionMs: 86_400_000 },
        },
      ];
      for (const { name, spec, config } of cases) {
        test(name, async () => {
          const topic = unique("retention");
          await log.createTopic({ name: topic, ...spec });
          expect(await log.topicConfig(topic)).toEqual(config);
        });
      }

      test("asking for a changelog on an existing topic that deletes makes it compacted", async () => {
        const topic = await topicWith(1);
        await log.createTopic({ name: topic, partitions: 1, compacted: true });
        expect((await log.topicConfig(topic))?.compacted).toBe(true);
      });

      test("a missing topic has no config", async () => {
        expect(await log.topicConfig(unique("missing"))).toBeUndefined();
      });
    });

    groupContract({ log: () => log, topicWith });

    describe("bad input is a PlatformError with a code", () => {
      const cases: { name: string; code: ErrorCode; act: (topic: string) => Promise<unknown> }[] = [
        {
          name: "append to a missing topic",
          code: ErrorCodes.LOG_TOPIC_MISSING,
          act: () => log.append([{ topic: `${unique("missing")}`, key: "k", value: bytes("v") }]),
        },
        {
          name: "append to a partition the topic does not have",
          code: ErrorCodes.LOG_PARTITION_INVALID,
          act: (topic) => log.append([{ topic, key: "k", value: bytes("v"), partition: 7 }]),
        },
        {
          name: "append to a negative partition",
          code: ErrorCodes.LOG_PARTITION_INVALID,
          act: (topic) => log.append([{ topic, key: "k", value: bytes("v"), partition: -1 }]),
        },
        {
          name: "read a partition the topic does not have",
          code: ErrorCodes.LOG_PARTITION_INVALID,
          act: (topic) => log.read({ topic, partition: 2 }),
        },
        {
          name: "append a record larger than the limit",
          code: ErrorCodes.LOG_RECORD_TOO_LARGE,
          act: (topic) => log.append([{ topic, key: "big", value: new Uint8Array(3 * 1024 * 1024) }]),
        },
      ];
      for (const { name: caseName, code, act } of cases) {
        test(`${caseName} fails with ${code}`, async () => {
          const topic = await topicWith(2);
          await expectError(() => act(topic), code);
        });
      }

      test("the missing topic is named in the error", async () => {
        const missing = unique("missing");
        const error = await expectError(
          () => log.append([{ topic: missing, key: null, value: bytes("v") }]),
          ErrorCodes.LOG_TOPIC_MISSING,
        );
        expect(error.message).toContain(missing);
      });

      test("a failed batch writes none of its records", async () => {
        const topic = await topicWith(1);
        await expectError(
          () =>
            log.append([
              { topic, key: "ok", value: bytes("v") },
              { topic, key: "bad", value: bytes("v"), partition: 5 },
            ]),
          ErrorCodes.LOG_PARTITION_INVALID,
        );
        expect(await log.endOffset({ topic, partition: 0 })).toBe(0);
      });

      test(
        "a closed consumer and a closed log refuse to work with LOG_CLOSED",
        async () => {
          const other = await open();
          try {
            const topic = unique("topic");
            await other.log.createTopic({ name: topic, partitions: 1 });
            const consumer = other.log.consumer({ groupId: unique("group"), topics: [topic] });
            await consumer.close();
            await expectError(() => consumer.poll({ timeoutMs: 0 }), ErrorCodes.LOG_CLOSED);
            await other.log.close();
            await expectError(
              () => other.log.append([{ topic, key: null, value: bytes("v") }]),
              ErrorCodes.LOG_CLOSED,
            );
            await expectError(() => other.log.read({ topic, partition: 0 }), ErrorCodes.LOG_CLOSED);
          } finally {
            await other.cleanup();
          }
        },
        TEST_TIMEOUT_MS,
      );
    });
  });
}
