import { describe, expect, test } from "bun:test";
import type { MessageToProduce, Producer } from "@platformatic/kafka";
import { AppendBatcher } from "../../../log/kafka/append-batcher.ts";

/**
 * The batcher's own arithmetic: which offset each appended record gets from the base offsets a
 * send reports. The producer here is the library's `send` contract reduced to its answer (the
 * Log contract tests run the same path against the real broker).
 */
type Sent = { topic: string; partition: number; offset: bigint }[];

function producerAnswering(base: Sent): { producer: Producer; sends: MessageToProduce[][] } {
  const sends: MessageToProduce[][] = [];
  const producer = {
    send: async ({ messages }: { messages: MessageToProduce[] }) => {
      sends.push(messages);
      return { offsets: base };
    },
  } as unknown as Producer;
  return { producer, sends };
}

const message = (topic: string, partition: number): MessageToProduce => ({
  topic,
  partition,
  value: Buffer.from("v"),
});

describe("AppendBatcher", () => {
  const cases: {
    name: string;
    base: Sent;
    appends: [string, number][][];
    offsets: number[][];
  }[] = [
    {
      name: "a record's offset is its partition's base plus the records before it in the send, across appends",
      base: [
        { topic: "a", partition: 0, offset: 100n },
        { topic: "a", partition: 3, offset: 7n },
        { topic: "b", partition: 0, offset: 5_000_000_000n },
      ],
      appends: [
        [
          ["a", 0],
          ["a", 3],
          ["a", 0],
          ["b", 0],
        ],
        [
          ["a", 3],
          ["b", 0],
          ["a", 0],
        ],
      ],
      offsets: [
        [100, 7, 101, 5_000_000_000],
        [8, 5_000_000_001, 102],
      ],
    },
    {
      name: "a record of a partition the send reported no base offset for gets -1, the others theirs",
      base: [{ topic: "a", partition: 1, offset: 10n }],
      appends: [
        [
          ["a", 1],
          ["a", 2],
          ["c", 1],
          ["a", 1],
        ],
      ],
      offsets: [[10, -1, -1, 11]],
    },
  ];
  for (const { name, base, appends, offsets } of cases)
    test(name, async () => {
      const { producer, sends } = producerAnswering(base);
      const batcher = new AppendBatcher(producer, { lingerMs: 50, batchBytes: 1 << 20 });
      // appended in one turn: both wait for the same linger and go out in one send
      const results = appends.map((records) =>
        batcher.append(
          records.map(([topic, partition]) => message(topic, partition)),
          records.length,
        ),
      );
      expect(await Promise.all(results)).toEqual(offsets);
      expect(sends).toHaveLength(1);
    });

  // regression: a backlog's flush went out as one request whose partition batch passed the
  // broker's 1 MiB, and the broker refused it (MESSAGE_TOO_LARGE)
  test("a flush past requestBytes goes out as requests one after another, each record's offset from its own request", async () => {
    const next = new Map<string, number>();
    const sends: MessageToProduce[][] = [];
    const producer = {
      // as a broker answers: each partition's base offset, the next after what it holds
      send: async ({ messages }: { messages: MessageToProduce[] }) => {
        sends.push(messages);
        const bases = new Map<string, { topic: string; partition: number; offset: bigint }>();
        for (const m of messages) {
          const key = `${m.topic}:${m.partition}`;
          if (!bases.has(key))
            bases.set(key, {
              topic: m.topic,
              partition: m.partition ?? 0,
              offset: BigInt(next.get(key) ?? 0),
            });
          next.set(key, (next.get(key) ?? 0) + 1);
        }
        return { offsets: [...bases.values()] };
      },
    } as unknown as Producer;
    // each record 32 + 1 + 50 bytes: two fit in 200, a third does not
    const sized = (partition: number): MessageToProduce => ({
      topic: "a",
      partition,
      key: Buffer.from("k"),
      value: Buffer.alloc(50),
    });
    const batcher = new AppendBatcher(producer, { lingerMs: 50, batchBytes: 1 << 20, requestBytes: 200 });
    const first = batcher.append([sized(0), sized(1), sized(0)], 3);
    const second = batcher.append([sized(0), sized(0)], 2);
    expect(await Promise.all([first, second])).toEqual([
      [0, 0, 1],
      [2, 3],
    ]);
    expect(sends.map((request) => request.length)).toEqual([2, 2, 1]);
  });

  test("a record larger than requestBytes goes out alone", async () => {
    const { producer, sends } = producerAnswering([{ topic: "a", partition: 0, offset: 9n }]);
    const batcher = new AppendBatcher(producer, { lingerMs: 50, batchBytes: 1 << 20, requestBytes: 10 });
    expect(await batcher.append([message("a", 0)], 1)).toEqual([9]);
    expect(sends).toHaveLength(1);
  });

  test("a failed send rejects every append it carried", async () => {
    const failure = new Error("broker away");
    const producer = {
      send: async () => {
        throw failure;
      },
    } as unknown as Producer;
    const batcher = new AppendBatcher(producer, { lingerMs: 50, batchBytes: 1 << 20 });
    const first = batcher.append([message("a", 0)], 1);
    const second = batcher.append([message("a", 1)], 1);
    expect(await Promise.allSettled([first, second])).toEqual([
      { status: "rejected", reason: failure },
      { status: "rejected", reason: failure },
    ]);
  });
});
