import { beforeAll, describe, expect, test } from "bun:test";
import type { Consumer, Log, LogRecord, TopicPartition } from "../../log/log.ts";
import {
  allPartitions,
  bytes,
  pollUntil,
  slot,
  sortedSlots,
  TEST_TIMEOUT_MS,
  text,
  unique,
  WAIT_MS,
} from "./log-contract-support.ts";

export interface GroupContractContext {
  log(): Log;
  topicWith(partitions: number, compacted?: boolean): Promise<string>;
}

/** The consumer-group half of the Log contract; `logContract` runs it. */
export function groupContract(context: GroupContractContext): void {
  describe("consumer groups", () => {
    let log: Log;
    const topicWith = context.topicWith;
    beforeAll(() => {
      log = context.log();
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
      "a group's committed offsets can be read without joining the group",
      async () => {
        const topic = await topicWith(3);
        const groupId = unique("group");
        expect(await log.groupOffsets(groupId, topic)).toEqual(new Map());
        const consumer = log.consumer({ groupId, topics: [topic], startFrom: "earliest" });
        try {
          await pollUntil([consumer], () => consumer.assignment().length === 3, "the assignment");
          await consumer.commit([
            { topic, partition: 0, offset: 4 },
            { topic, partition: 2, offset: 7 },
          ]);
          const offsets = await log.groupOffsets(groupId, topic);
          expect([...offsets].sort(([a], [b]) => a - b)).toEqual([
            [0, 4],
            [2, 7],
          ]);
          expect(consumer.assignment().length).toBe(3);
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

    test(
      "a member's lag is how far its reads are behind the partition's end: 0 once read to it, up with records not handed out yet and with a seek back, unknown for a partition it does not own",
      async () => {
        const topic = await topicWith(1);
        const tp = { topic, partition: 0 };
        await log.append(Array.from({ length: 5 }, (_, i) => ({ topic, key: null, value: bytes(`l${i}`) })));
        const consumer = log.consumer({ groupId: unique("group"), topics: [topic] });
        try {
          await pollUntil([consumer], ([got]) => got!.length >= 5, "5 records");
          expect(consumer.currentLag(tp)).toBe(0);
          expect(consumer.currentLag({ topic, partition: 1 })).toBeUndefined();

          // one append of three: a poll that hands out one leaves two behind, wherever they wait
          await log.append([5, 6, 7].map((i) => ({ topic, key: null, value: bytes(`l${i}`) })));
          const [one] = await pollOne(consumer);
          expect(one!.offset).toBe(5);
          expect(consumer.currentLag(tp)).toBe(2);
          await pollUntil([consumer], ([got]) => got!.length >= 2, "the other 2 records");
          expect(consumer.currentLag(tp)).toBe(0);

          consumer.seek({ topic, partition: 0, offset: 1 });
          expect(consumer.currentLag(tp)).toBe(7);
        } finally {
          await consumer.close();
        }
      },
      TEST_TIMEOUT_MS,
    );
  });
}

/** polls one record at a time until one comes */
async function pollOne(consumer: Consumer): Promise<LogRecord[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const records = await consumer.poll({ maxRecords: 1, timeoutMs: 100 });
    if (records.length > 0) return records;
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for a record`);
  }
}
