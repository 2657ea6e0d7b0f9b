import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Consumer, Log, LogRecord, TopicPartition } from "../../log/log.ts";
import { type ErrorCode, ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { partitionFor } from "../../supervisor/murmur2.ts";

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

const TEST_TIMEOUT_MS = 90_000;
const WAIT_MS = 45_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (value: Uint8Array | null) => (value === null ? null : decoder.decode(value));
const slot = (tp: TopicPartition) => `${tp.topic}#${tp.partition}`;
const sortedSlots = (tps: readonly TopicPartition[]) => tps.map(slot).sort();

let counter = 0;
function unique(what: string): string {
  counter += 1;
  return `contract.${what}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}.${counter}`;
}

async function expectError(action: () => unknown, code: ErrorCode): Promise<Error> {
  try {
    await action();
  } catch (error) {
    if (!isPlatformError(error, code)) throw error;
    return error;
  }
  throw new Error(`expected a PlatformError ${code}, but the call succeeded`);
}

/** poll the consumers round after round until `done` holds; returns every record each one got */
async function pollUntil(
  consumers: readonly Consumer[],
  done: (received: LogRecord[][]) => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<LogRecord[][]> {
  const received: LogRecord[][] = consumers.map(() => []);
  const deadline = Date.now() + timeoutMs;
  while (!done(received)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    for (const [index, consumer] of consumers.entries()) {
      received[index]!.push(...(await consumer.poll({ maxRecords: 100, timeoutMs: 100 })));
    }
  }
  return received;
}

const allPartitions = (topic: string, count: number): TopicPartition[] =>
  Array.from({ length: count }, (_, partition) => ({ topic, partition }));

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

    test(
      "a group consumer starting from earliest receives every record already in the log",
      async () => {
        const topic = await topicWith(3);
        const values = Array.from({ length: 30 }, (_, i) => `e${i}`);
        await log.append(values.map((value, i) => ({ topic, key: `k${i}`, value: bytes(value) })));
        const consumer = log.consumer({ groupId: unique("group"), topics: [topic], startFrom: "earliest" });
        try {
          const [received] = await pollUntil([consumer], ([got]) => got!.length >= 30, "30 records");
          expect(received!.map((record) => text(record.value)).sort()).toEqual([...values].sort());
          expect(sortedSlots(consumer.assignment())).toEqual(sortedSlots(allPartitions(topic, 3)));
        } finally {
          await consumer.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "a group consumer starting from latest skips records written before it joined",
      async () => {
        const topic = await topicWith(2);
        await log.append(
          Array.from({ length: 6 }, (_, i) => ({ topic, key: `k${i}`, value: bytes(`old${i}`) })),
        );
        const consumer = log.consumer({ groupId: unique("group"), topics: [topic], startFrom: "latest" });
        try {
          await pollUntil([consumer], () => consumer.assignment().length === 2, "the assignment");
          // keep writing until new records flow: an adapter may settle its start offset a little later
          const received: LogRecord[] = [];
          const deadline = Date.now() + WAIT_MS;
          for (
            let written = 0;
            !received.some((record) => text(record.value)?.startsWith("new"));
            written++
          ) {
            if (Date.now() > deadline)
              throw new Error("timed out waiting for a record written after joining");
            await log.append([{ topic, key: `n${written}`, value: bytes(`new${written}`) }]);
            received.push(...(await consumer.poll({ maxRecords: 100, timeoutMs: 250 })));
          }
          expect(received.filter((record) => text(record.value)?.startsWith("old"))).toEqual([]);
        } finally {
          await consumer.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "a new member of the group resumes after the committed offset",
      async () => {
        const topic = await topicWith(1);
        const groupId = unique("group");
        await log.append(Array.from({ length: 10 }, (_, i) => ({ topic, key: null, value: bytes(`c${i}`) })));
        const first = log.consumer({ groupId, topics: [topic] });
        await pollUntil([first], ([got]) => got!.length >= 10, "10 records");
        await first.commit([{ topic, partition: 0, offset: 6 }]);
        expect(await first.committed({ topic, partition: 0 })).toBe(6);
        await first.close();

        const second = log.consumer({ groupId, topics: [topic] });
        try {
          const [received] = await pollUntil(
            [second],
            ([got]) => got!.length >= 4,
            "the 4 uncommitted records",
          );
          expect(received!.map((record) => record.offset)).toEqual([6, 7, 8, 9]);
          expect(await second.committed({ topic, partition: 0 })).toBe(6);
        } finally {
          await second.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "records read but not committed are delivered again after the consumer closes",
      async () => {
        const topic = await topicWith(2);
        const groupId = unique("group");
        await log.append(
          Array.from({ length: 8 }, (_, i) => ({ topic, key: `k${i}`, value: bytes(`u${i}`) })),
        );
        const first = log.consumer({ groupId, topics: [topic] });
        const [firstRound] = await pollUntil([first], ([got]) => got!.length >= 8, "8 records");
        await first.close();
        const second = log.consumer({ groupId, topics: [topic] });
        try {
          const [secondRound] = await pollUntil([second], ([got]) => got!.length >= 8, "8 records again");
          const values = (records: LogRecord[]) => records.map((record) => text(record.value)).sort();
          expect(values(secondRound!)).toEqual(values(firstRound!));
        } finally {
          await second.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "two members of a group split the partitions with no overlap and full coverage",
      async () => {
        const topic = await topicWith(6);
        const groupId = unique("group");
        const one = log.consumer({ groupId, topics: [topic], memberId: "one" });
        const two = log.consumer({ groupId, topics: [topic], memberId: "two" });
        try {
          const split = () => {
            const a = sortedSlots(one.assignment());
            const b = sortedSlots(two.assignment());
            const overlap = a.filter((s) => b.includes(s));
            return a.length > 0 && b.length > 0 && overlap.length === 0 && a.length + b.length === 6;
          };
          await pollUntil([one, two], split, "a split assignment");
          expect(sortedSlots([...one.assignment(), ...two.assignment()])).toEqual(
            sortedSlots(allPartitions(topic, 6)),
          );

          await log.append(
            Array.from({ length: 60 }, (_, i) => ({ topic, key: `s${i}`, value: bytes(`s${i}`) })),
          );
          const received = await pollUntil(
            [one, two],
            (got) => got[0]!.length + got[1]!.length >= 60,
            "60 records across both members",
          );
          const owners = [one, two].map((member) => new Set(sortedSlots(member.assignment())));
          received.forEach((records, member) => {
            for (const record of records) expect(owners[member]!.has(slot(record))).toBe(true);
          });
          const values = received.flat().map((record) => text(record.value));
          expect(new Set(values).size).toBe(60);
          expect(values.length).toBe(60);
        } finally {
          await Promise.all([one.close(), two.close()]);
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "rebalance callbacks revoke only held partitions and assign only new ones, before and after",
      async () => {
        const topic = await topicWith(4);
        const groupId = unique("group");
        const violations: string[] = [];
        const tracker = (label: string) => {
          const held = new Set<string>();
          const revokedEver: string[] = [];
          return {
            held,
            revokedEver,
            rebalance: {
              onRevoked: (partitions: readonly TopicPartition[]) => {
                for (const s of partitions.map(slot)) {
                  if (!held.delete(s)) violations.push(`${label} revoked ${s} it did not hold`);
                  revokedEver.push(s);
                }
              },
              onAssigned: (partitions: readonly TopicPartition[]) => {
                for (const s of partitions.map(slot)) {
                  if (held.has(s)) violations.push(`${label} assigned ${s} it already held`);
                  held.add(s);
                }
              },
            },
          };
        };
        const first = tracker("first");
        const second = tracker("second");
        const one = log.consumer({ groupId, topics: [topic], rebalance: first.rebalance });
        const sameAs = (held: Set<string>, consumer: Consumer) =>
          [...held].sort().join() === sortedSlots(consumer.assignment()).join();
        let two: Consumer | undefined;
        try {
          await pollUntil(
            [one],
            () => first.held.size === 4 && sameAs(first.held, one),
            "the first member to hold all 4",
          );
          two = log.consumer({ groupId, topics: [topic], rebalance: second.rebalance });
          const joined = two;
          await pollUntil(
            [one, joined],
            () =>
              first.held.size > 0 &&
              second.held.size > 0 &&
              first.held.size + second.held.size === 4 &&
              sameAs(first.held, one) &&
              sameAs(second.held, joined),
            "the partitions to be split by the callbacks",
          );
          expect(first.revokedEver.length).toBeGreaterThan(0);
          expect([...first.held].filter((s) => second.held.has(s))).toEqual([]);

          const secondHeld = [...second.held].sort();
          await joined.close();
          expect(second.held.size).toBe(0);
          expect([...second.revokedEver].sort()).toEqual(expect.arrayContaining(secondHeld));
          await pollUntil(
            [one],
            () => first.held.size === 4 && sameAs(first.held, one),
            "the first member to take all back",
          );
          expect(violations).toEqual([]);
        } finally {
          await Promise.all([one.close(), two?.close()]);
        }
      },
      TEST_TIMEOUT_MS,
    );

    test(
      "seek moves an owned partition back so its records are read again",
      async () => {
        const topic = await topicWith(1);
        await log.append(Array.from({ length: 5 }, (_, i) => ({ topic, key: null, value: bytes(`p${i}`) })));
        const consumer = log.consumer({ groupId: unique("group"), topics: [topic] });
        try {
          await pollUntil([consumer], ([got]) => got!.length >= 5, "5 records");
          consumer.seek({ topic, partition: 0, offset: 2 });
          const [replayed] = await pollUntil([consumer], ([got]) => got!.length >= 3, "the replay");
          expect(replayed!.map((record) => record.offset)).toEqual([2, 3, 4]);
        } finally {
          await consumer.close();
        }
      },
      TEST_TIMEOUT_MS,
    );

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
