import { afterAll, describe, expect, test } from "bun:test";
import { type CompressionAlgorithmValue, crc32c, type MessageRecord } from "@platformatic/kafka";
import { BatchDecodeThread } from "../../../log/kafka/batch-decode-offload.ts";
import {
  type BatchSource,
  type DecodedBatches,
  decodeRecordBatches,
} from "../../../log/kafka/record-batch-decoder.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { batchAt, markerAt } from "./stored-batches.ts";

const message = (i: number, headers: Array<[string, string]> = []): MessageRecord => ({
  topic: "t",
  partition: 0,
  key: Buffer.from(`sensor-${i}`),
  value: Buffer.from(`{"sensor_id":"sensor-${i}","value":${i}}`),
  timestamp: 1_764_600_000_000n + BigInt(i),
  headers: new Map(headers.map(([key, value]) => [Buffer.from(key), Buffer.from(value)])),
});

const messages = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => message(from + i, [["ingested_at", String(from + i)]]));

const source = (
  bytes: Uint8Array,
  partition = 3,
  fromOffset = 0n,
  extra: Partial<BatchSource> = {},
): BatchSource => ({
  topic: "t",
  partition,
  bytes,
  fromOffset,
  ...extra,
});

/** a decode as plain data: values as bytes, the corrupt batch's error as its code and message */
const plain = (decoded: DecodedBatches) => ({
  records: decoded.records.map((record) => ({ ...record, value: record.value && [...record.value] })),
  nextOffset: decoded.nextOffset,
  corrupt: decoded.corrupt && {
    offset: decoded.corrupt.offset,
    code: decoded.corrupt.error.code,
    message: decoded.corrupt.error.message,
    details: decoded.corrupt.error.details,
  },
});

const flipped = (bytes: Buffer) => {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy[copy.byteLength - 3]! ^ 1, copy.byteLength - 3);
  return copy;
};
/** a batch that says 3 records but holds 2, its CRC made right: its records do not parse */
const shortOfRecords = (base: bigint) => {
  const bytes = batchAt(base, [message(Number(base)), message(Number(base) + 1)]);
  bytes.writeInt32BE(3, 57);
  bytes.writeInt32BE(2, 23);
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
  return bytes;
};

const threads: BatchDecodeThread[] = [];
const newThread = () => {
  const thread = new BatchDecodeThread();
  threads.push(thread);
  return thread;
};
afterAll(() => {
  for (const thread of threads) thread.close();
});

const CASES: ReadonlyArray<{ name: string; sources: () => BatchSource[] }> = [
  ...(["none", "gzip", "snappy", "lz4", "zstd"] as CompressionAlgorithmValue[]).map((compression) => ({
    name: `batches compressed with ${compression}, two partitions`,
    sources: () => [
      source(Buffer.concat([batchAt(0n, messages(0, 40), { compression }), batchAt(40n, messages(40, 3))])),
      source(batchAt(7n, messages(7, 25), { compression }), 5),
    ],
  })),
  {
    name: "a fetch from the middle of a batch, the last batch cut off by the byte limit",
    sources: () => {
      const whole = batchAt(0n, messages(0, 10), { compression: "lz4" });
      const next = batchAt(10n, messages(10, 10));
      return [source(Buffer.concat([whole, next.subarray(0, next.byteLength - 9)]), 3, 4n)];
    },
  },
  {
    name: "read_committed: an aborted transaction skipped up to its marker, a committed one read",
    sources: () => [
      source(
        Buffer.concat([
          batchAt(0n, messages(0, 2), { producerId: 7n, transactional: true }),
          markerAt(2n, 7n, "abort"),
          batchAt(3n, messages(3, 2), { producerId: 8n, transactional: true }),
          markerAt(5n, 8n, "commit"),
        ]),
        3,
        0n,
        { abortedTransactions: [{ producerId: 7n, firstOffset: 0n }] },
      ),
    ],
  },
  {
    name: "a bad CRC after a whole batch",
    sources: () => [
      source(Buffer.concat([batchAt(0n, messages(0, 2)), flipped(batchAt(2n, messages(2, 2)))])),
    ],
  },
  {
    name: "records that do not parse, then a bad CRC: the first fault is the one reported",
    sources: () => [
      source(
        Buffer.concat([
          batchAt(0n, messages(0, 3)),
          shortOfRecords(3n),
          flipped(batchAt(6n, messages(6, 2), { compression: "gzip" })),
        ]),
      ),
    ],
  },
  { name: "no batches at all", sources: () => [source(new Uint8Array(0))] },
];

describe("fetch responses decoded on the batch decode thread", () => {
  test.each(CASES)("$name: the same records, position and fault as decoded in place", async ({ sources }) => {
    const thread = newThread();
    const inPlace = sources().map((s) => plain(decodeRecordBatches(s)));
    const original = sources();
    const copies = original.map((s) => Buffer.from(s.bytes));
    const across = (await thread.decode(original, undefined, 0)).map(plain);
    expect(across).toEqual(inPlace);
    expect(thread.counts).toEqual({ offloaded: 1, inPlace: 0, fellBack: 0 });
    // the bytes cross as a copy: the caller's response is left whole
    expect(original.map((s) => Buffer.from(s.bytes))).toEqual(copies);
  });

  test("a corrupt batch's error made again on this side is a LOG_BATCH_CORRUPT naming the partition and offset", async () => {
    const [decoded] = await newThread().decode(
      [source(Buffer.concat([batchAt(0n, messages(0, 2)), flipped(batchAt(2n, messages(2, 2)))]), 9)],
      undefined,
      0,
    );
    expect(decoded!.corrupt!.error.code).toBe(ErrorCodes.LOG_BATCH_CORRUPT);
    expect(decoded!.corrupt!.error.message).toMatch(
      /^LOG_BATCH_CORRUPT: a record batch of t#9 at offset 2 is corrupt: CRC-32C/,
    );
    expect(decoded!.corrupt!.error.details).toEqual({ topic: "t", partition: 9, offset: 2 });
  });

  test("records that do not parse before a bad CRC: the batches before them are records, the fault is theirs", async () => {
    const [decoded] = await newThread().decode(
      CASES.find((c) => c.name.startsWith("records that"))!.sources(),
      undefined,
      0,
    );
    expect(decoded!.records.map((record) => record.offset)).toEqual([0, 1, 2]);
    expect(decoded!.nextOffset).toBe(3n);
    expect(decoded!.corrupt!.offset).toBe(3);
    expect(decoded!.corrupt!.error.message).toMatch(/record 2: /);
  });

  test("values come back as views of their own batch's bytes", async () => {
    const [decoded] = await newThread().decode(
      [
        source(
          Buffer.concat([batchAt(0n, messages(0, 3), { compression: "lz4" }), batchAt(3n, messages(3, 2))]),
        ),
      ],
      undefined,
      0,
    );
    const values = decoded!.records.map((record) => record.value!);
    expect(values[0]!.buffer).toBe(values[2]!.buffer);
    expect(values[3]!.buffer).not.toBe(values[0]!.buffer);
    expect(Buffer.from(values[4]!).toString()).toBe('{"sensor_id":"sensor-4","value":4}');
  });

  test.each([
    { name: "a response below the threshold", bytes: 1000, minBytes: 1001, offloaded: 0 },
    { name: "a response at the threshold", bytes: 1000, minBytes: 1000, offloaded: 1 },
    {
      name: "any response when the threshold is Infinity",
      bytes: 1000,
      minBytes: Number.POSITIVE_INFINITY,
      offloaded: 0,
    },
  ])("$name goes to the thread only when it reaches it", async ({ bytes, minBytes, offloaded }) => {
    const thread = newThread();
    const batch = batchAt(0n, messages(0, 5));
    const padded = Buffer.concat([batch, Buffer.alloc(bytes - batch.byteLength)]);
    const [decoded] = await thread.decode([source(padded)], undefined, minBytes);
    expect(decoded!.records.map((record) => record.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(thread.counts.offloaded).toBe(offloaded);
    expect(thread.counts.inPlace).toBe(1 - offloaded);
  });

  test("a thread that dies with a decode in flight: that response and the later ones are decoded in place, nothing lost", async () => {
    const thread = newThread();
    const bytes = Buffer.concat([batchAt(0n, messages(0, 30), { compression: "lz4" })]);
    const expected = plain(decodeRecordBatches(source(bytes)));
    await thread.decode([source(bytes)], undefined, 0);
    const inFlight = thread.decode([source(bytes)], undefined, 0);
    // the thread's end as a crash would be: terminated under the pending decode
    (thread as unknown as { worker: Worker }).worker.terminate();
    expect(plain((await inFlight)[0]!)).toEqual(expected);
    expect(plain((await thread.decode([source(bytes)], undefined, 0))[0]!)).toEqual(expected);
    expect(thread.counts).toEqual({ offloaded: 1, inPlace: 1, fellBack: 1 });
    expect(thread.failure).toBeDefined();
  });

  test("hostile bytes with a valid CRC, in a whole batch or its compressed frame: the thread answers what decoding in place answers, and keeps answering", async () => {
    const thread = newThread();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fff_ffff;
      return seed;
    };
    const valids = [
      batchAt(0n, messages(0, 5)),
      batchAt(0n, messages(0, 20), { compression: "lz4" }),
      batchAt(0n, messages(0, 20), { compression: "snappy" }),
      batchAt(0n, messages(0, 20), { compression: "gzip" }),
    ];
    for (let round = 0; round < 200; round++) {
      const sources = valids.map((valid) => {
        const bytes = Buffer.from(valid);
        for (let flips = 1 + (random() % 4); flips > 0; flips--) {
          // past the header's CRC field: the record bytes or the compressed frame
          const at = 61 + (random() % (bytes.byteLength - 61));
          bytes[at] = random() & 0xff;
        }
        bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
        return source(bytes);
      });
      const inPlace = sources.map((s) => plain(decodeRecordBatches(s)));
      expect((await thread.decode(sources, undefined, 0)).map(plain)).toEqual(inPlace);
    }
    expect(thread.counts).toEqual({ offloaded: 200, inPlace: 0, fellBack: 0 });
  });
});
