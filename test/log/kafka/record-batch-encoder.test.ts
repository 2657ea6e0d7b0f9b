import { describe, expect, test } from "bun:test";
import {
  type CompressionAlgorithmValue,
  createRecordsBatch,
  type MessageRecord,
  NumericMap,
  Reader,
  readRecordsBatch,
} from "@platformatic/kafka";
import { decodeRecordBatches } from "../../../log/kafka/record-batch-decoder.ts";
import { encodeRecordBatch, type RecordBatchHeader } from "../../../log/kafka/record-batch-encoder.ts";

/**
 * Our RecordBatch encoder writes exactly the bytes of @platformatic/kafka's `createRecordsBatch`
 * for the same messages and producer state: the idempotent producer's id, epoch and sequence,
 * and the transactional flag, land where the library puts them, and nothing else changes.
 */

const T0 = 1_764_633_600_000n;
const bytes = (text: string) => Buffer.from(text, "utf8");

interface Case {
  readonly name: string;
  readonly messages: () => MessageRecord[];
}

const cases: Case[] = [
  {
    name: "one record",
    messages: () => [{ topic: "t", partition: 3, key: bytes("k"), value: bytes("v"), timestamp: T0 }],
  },
  {
    name: "a null key and a tombstone (null value)",
    messages: () => [
      { topic: "t", partition: 0, value: bytes("no key"), timestamp: T0 },
      { topic: "t", partition: 0, key: bytes("gone"), timestamp: T0 + 1n } as MessageRecord,
    ],
  },
  {
    name: "empty keys and values (not null)",
    messages: () => [
      { topic: "t", partition: 0, key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 },
    ],
  },
  {
    name: "non-ASCII keys and values",
    messages: () => [
      { topic: "t", partition: 1, key: bytes("é€😀"), value: bytes("🚦 caf\u00e9"), timestamp: T0 },
    ],
  },
  {
    name: "values whose lengths take two and three varint bytes",
    messages: () => [
      { topic: "t", partition: 0, key: bytes("a"), value: Buffer.alloc(200, 1), timestamp: T0 },
      { topic: "t", partition: 0, key: bytes("b"), value: Buffer.alloc(70_000, 2), timestamp: T0 },
    ],
  },
  {
    name: "timestamps out of order (the max not last, a negative delta)",
    messages: () => [
      { topic: "t", partition: 0, key: bytes("a"), value: bytes("1"), timestamp: T0 },
      { topic: "t", partition: 0, key: bytes("b"), value: bytes("2"), timestamp: T0 + 90_000n },
      { topic: "t", partition: 0, key: bytes("c"), value: bytes("3"), timestamp: T0 - 5_000n },
    ],
  },
  {
    name: "timestamp deltas of up to 2^31 - 1 ms either way (varlongs of five bytes)",
    messages: () => [
      { topic: "t", partition: 0, key: bytes("a"), value: bytes("1"), timestamp: T0 },
      { topic: "t", partition: 0, key: bytes("b"), value: bytes("2"), timestamp: T0 + 2_147_483_647n },
      { topic: "t", partition: 0, key: bytes("c"), value: bytes("3"), timestamp: T0 - 2_147_483_648n },
    ],
  },
  {
    name: "headers, a repeated name and a null header value",
    messages: () => [
      {
        topic: "t",
        partition: 0,
        key: bytes("k"),
        value: bytes("v"),
        timestamp: T0,
        headers: new Map<Buffer, Buffer>([
          [bytes("trace"), bytes("abc")],
          [bytes("trace"), bytes("def")],
          [bytes("empty"), null as unknown as Buffer],
        ]),
      },
    ],
  },
  {
    name: "300 records (offset deltas past one varint byte), views into one pool",
    messages: () => {
      const pool = Buffer.from("x".repeat(300 * 12));
      return Array.from({ length: 300 }, (_, i) => ({
        topic: "t",
        partition: 2,
        key: pool.subarray(i * 12, i * 12 + 5),
        value: pool.subarray(i * 12 + 5, i * 12 + 12),
        timestamp: T0 + BigInt(i * 7),
      }));
    },
  },
];

const headers: {
  name: string;
  compression: CompressionAlgorithmValue;
  idempotent: boolean;
  transactionalId?: string;
}[] = [
  { name: "uncompressed, not idempotent", compression: "none", idempotent: false },
  { name: "lz4, idempotent", compression: "lz4", idempotent: true },
  { name: "snappy, idempotent", compression: "snappy", idempotent: true },
  { name: "lz4, transactional", compression: "lz4", idempotent: true, transactionalId: "tx-1" },
  { name: "uncompressed, transactional", compression: "none", idempotent: true, transactionalId: "tx-2" },
];

/** the library's own bytes, from a copy of the messages (it writes the timestamps back) */
function libraryBatch(messages: MessageRecord[], header: (typeof headers)[number], sequence: number): Buffer {
  const sequences = new NumericMap();
  sequences.set(`${messages[0]!.topic}:${messages[0]!.partition}`, sequence);
  return createRecordsBatch(
    messages.map((message) => ({ ...message })),
    {
      compression: header.compression,
      ...(header.idempotent ? { producerId: 4_242n, producerEpoch: 3, sequences } : {}),
      ...(header.transactionalId === undefined ? {} : { transactionalId: header.transactionalId }),
    },
  ).buffer;
}

function ourBatch(
  messages: MessageRecord[],
  header: (typeof headers)[number],
  sequence: number,
): Buffer | undefined {
  const batchHeader: RecordBatchHeader = {
    compression: header.compression,
    producerId: header.idempotent ? 4_242n : -1n,
    producerEpoch: header.idempotent ? 3 : 0,
    baseSequence: header.idempotent ? sequence : 0,
    transactional: header.transactionalId !== undefined,
    partitionLeaderEpoch: 0,
  };
  return encodeRecordBatch(messages as (MessageRecord & { timestamp: bigint })[], batchHeader);
}

describe("the record batch encoder", () => {
  for (const header of headers)
    for (const { name, messages } of cases)
      test(`writes the library's bytes for ${name}, ${header.name}`, () => {
        const sequence = 1_000_000 + name.length;
        const ours = ourBatch(messages(), header, sequence);
        expect(ours).toBeDefined();
        expect(ours!.toString("hex")).toBe(libraryBatch(messages(), header, sequence).toString("hex"));
      });

  test("a batch it wrote reads back through the library's reader: records, producer state and sequence", () => {
    const messages = cases.find((c) => c.name.startsWith("headers"))!.messages();
    const batch = ourBatch(messages, { name: "lz4", compression: "lz4", idempotent: true }, 77)!;
    const read = readRecordsBatch(Reader.from(batch));
    expect(read.producerId).toBe(4_242n);
    expect(read.producerEpoch).toBe(3);
    expect(read.firstSequence).toBe(77);
    expect(read.records[0]!.key?.toString()).toBe("k");
    expect(read.records[0]!.value?.toString()).toBe("v");
    expect(read.records[0]!.headers.map(([k, v]) => [k?.toString(), v?.toString() ?? null])).toEqual([
      ["trace", "abc"],
      ["trace", "def"],
      ["empty", null],
    ]);
  });

  test("a timestamp delta of 2^31 ms or more is written as Kafka reads it (regression: the library's varlong zigzag shifts by 31 bits, not 63, and wrote 1,764,633,600,410 for 1,764,633,600,000)", () => {
    const stamps = [0n, T0, 1n << 40n, T0 + 30n * 86_400_000n, 5n];
    const messages = stamps.map((timestamp, i) => ({
      topic: "t",
      partition: 0,
      key: bytes(`k${i}`),
      value: bytes(`v${i}`),
      timestamp,
    }));
    for (const compression of ["none", "lz4"] as const) {
      const batch = ourBatch(messages, { name: compression, compression, idempotent: true }, 0)!;
      const { records } = decodeRecordBatches({ topic: "t", partition: 0, bytes: batch, fromOffset: 0n });
      expect(records.map((record) => record.timestamp)).toEqual(stamps.map(Number));
      expect(records.map((record) => record.key)).toEqual(stamps.map((_, i) => `k${i}`));
      // the batch's max timestamp is the largest, wherever it is
      expect(batch.readBigInt64BE(35)).toBe(T0 + 30n * 86_400_000n);
    }
  });

  test("the same messages and producer state always give the same bytes (a retried request is the same request)", () => {
    const messages = cases.find((c) => c.name.startsWith("300"))!.messages();
    const header = { name: "lz4", compression: "lz4" as const, idempotent: true };
    const first = ourBatch(messages, header, 5)!.toString("hex");
    // another batch in between reuses the encoder's scratch space
    ourBatch(cases[4]!.messages(), header, 9);
    expect(ourBatch(messages, header, 5)!.toString("hex")).toBe(first);
  });

  const declined: { name: string; messages: () => MessageRecord[] }[] = [
    {
      name: "a key given as text",
      messages: () => [
        { topic: "t", partition: 0, key: "text" as unknown as Buffer, value: bytes("v"), timestamp: T0 },
      ],
    },
    {
      name: "a header value given as text",
      messages: () => [
        {
          topic: "t",
          partition: 0,
          value: bytes("v"),
          timestamp: T0,
          headers: new Map([[bytes("h"), "text" as unknown as Buffer]]),
        },
      ],
    },
    {
      name: "a timestamp delta past 2^51",
      messages: () => [
        { topic: "t", partition: 0, value: bytes("a"), timestamp: -(1n << 52n) },
        { topic: "t", partition: 0, value: bytes("b"), timestamp: 1n << 52n },
      ],
    },
  ];
  for (const { name, messages } of declined)
    test(`declines ${name} (the library's encoder writes it)`, () => {
      expect(ourBatch(messages(), headers[1]!, 0)).toBeUndefined();
    });
});
