import { describe, expect, test } from "bun:test";
import {
  type CompressionAlgorithmValue,
  crc32c,
  type MessageRecord,
  Reader,
  readRecordsBatches,
} from "@platformatic/kafka";
import {
  type BatchSource,
  type DecodedBatches,
  decodeRecordBatches,
} from "../../../log/kafka/record-batch-decoder.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { batchAt, markerAt } from "./stored-batches.ts";

const message = (i: number, headers: Array<[string, string]> = []): MessageRecord => ({
  topic: "t",
  partition: 0,
  key: Buffer.from(`sensor-${i}`),
  value: Buffer.from(`{"i":${i}}`),
  timestamp: 1_764_600_000_000n + BigInt(i),
  headers: new Map(headers.map(([key, value]) => [Buffer.from(key), Buffer.from(value)])),
});

const source = (bytes: Uint8Array, fromOffset = 0n, extra: Partial<BatchSource> = {}): BatchSource => ({
  topic: "t",
  partition: 3,
  bytes,
  fromOffset,
  ...extra,
});

describe("Kafka record batches decoded from fetch bytes", () => {
  test("offsets and timestamps come out exact, records before the asked offset are dropped", () => {
    const bytes = batchAt(
      9_007_199_254_740_000n,
      [0, 1, 2, 3].map((i) => message(i)),
    );
    const { records, nextOffset } = decodeRecordBatches(source(bytes, 9_007_199_254_740_002n));
    expect(records.map((r) => r.offset)).toEqual([9_007_199_254_740_002, 9_007_199_254_740_003]);
    expect(records.map((r) => r.timestamp)).toEqual([1_764_600_000_002, 1_764_600_000_003]);
    expect(records.map((r) => r.key)).toEqual(["sensor-2", "sensor-3"]);
    expect(records.map((r) => [r.topic, r.partition])).toEqual([
      ["t", 3],
      ["t", 3],
    ]);
    expect(new TextDecoder().decode(records[0]!.value!)).toBe('{"i":2}');
    expect(nextOffset).toBe(9_007_199_254_740_004n);
  });

  test("the records equal what the library's own decoder reads from the same bytes", () => {
    const bytes = Buffer.concat([
      batchAt(0n, [
        message(0, [["ingested_at", "1"]]),
        { ...message(1), key: undefined, value: undefined as unknown as Buffer },
      ]),
      batchAt(2n, [message(2), message(3, [["a", ""]])], { compression: "gzip" }),
    ]);
    const ours = decodeRecordBatches(source(bytes)).records;
    const theirs = readRecordsBatches(Reader.from(bytes)).flatMap((batch) =>
      batch.records.map((record) => ({
        offset: Number(batch.firstOffset) + record.offsetDelta,
        key: record.key === null ? null : record.key.toString(),
        value: record.value === null ? null : [...record.value],
        timestamp: Number(batch.firstTimestamp + record.timestampDelta),
        headers: record.headers.map(([key, value]) => ({ key: String(key), value: String(value ?? "") })),
      })),
    );
    expect(
      ours.map((r) => ({
        ...r,
        value: r.value === null ? null : [...r.value],
        topic: undefined,
        partition: undefined,
      })),
    ).toEqual(theirs.map((r) => ({ ...r, topic: undefined, partition: undefined })));
  });

  test.each(["none", "gzip", "snappy", "lz4", "zstd"] as CompressionAlgorithmValue[])(
    "a batch compressed with %s decodes to the same records",
    (compression) => {
      const messages = Array.from({ length: 50 }, (_, i) => message(i, [["ingested_at", String(i)]]));
      const { records, nextOffset } = decodeRecordBatches(source(batchAt(100n, messages, { compression })));
      expect(records.map((r) => r.key)).toEqual(messages.map((_, i) => `sensor-${i}`));
      expect(records[49]!.headers).toEqual([{ key: "ingested_at", value: "49" }]);
      expect(nextOffset).toBe(150n);
    },
  );

  test("header names that change from record to record are each their own (regression: the name cache)", () => {
    const bytes = batchAt(0n, [
      message(0, [["ingested_at", "10"]]),
      message(1, [["ingested_by", "edge"]]),
      message(2, [
        ["ingested_at", "12"],
        ["ingested_at", "13"],
      ]),
      message(3, []),
      message(4, [["ingested_by", "edge-2"]]),
    ]);
    const { records } = decodeRecordBatches(source(bytes));
    expect(records.map((r) => r.headers)).toEqual([
      [{ key: "ingested_at", value: "10" }],
      [{ key: "ingested_by", value: "edge" }],
      [
        { key: "ingested_at", value: "12" },
        { key: "ingested_at", value: "13" },
      ],
      [],
      [{ key: "ingested_by", value: "edge-2" }],
    ]);
  });

  test.each([
    {
      name: "10,000 distinct keys, more than the table's slots, twice over",
      keys: [
        ...Array.from({ length: 10_000 }, (_, i) => `sensor-${i}`),
        ...Array.from({ length: 10_000 }, (_, i) => `sensor-${i}`),
      ],
    },
    {
      name: "keys that differ only in their last byte",
      keys: ["traffic-0001", "traffic-0002", "traffic-0001", "traffic-0003"],
    },
    {
      name: "a key longer than the cached length, repeated",
      keys: ["k".repeat(65), "k".repeat(65), `${"k".repeat(64)}j`],
    },
    {
      name: "non-ASCII keys and the empty key",
      keys: ["capteur-é", "センサー", "", "capteur-é", "センサー"],
    },
  ])("record keys come out as their own bytes decoded, whatever the key cache holds: $name", ({ keys }) => {
    const messages = keys.map((key, i) => ({ ...message(i), key: Buffer.from(key) }));
    const decoded = [0, 1].flatMap(
      (round) =>
        decodeRecordBatches(source(batchAt(BigInt(round * keys.length), messages, { compression: "lz4" })))
          .records,
    );
    expect(decoded.map((record) => record.key)).toEqual([...keys, ...keys]);
  });

  test("records without headers share one empty header list that nobody can add to", () => {
    const { records } = decodeRecordBatches(
      source(batchAt(0n, [message(0), message(1, [["a", "1"]]), message(2)])),
    );
    const [first, withHeader, last] = records;
    expect(first!.headers).toEqual([]);
    expect(last!.headers).toBe(first!.headers);
    expect(Object.isFrozen(first!.headers)).toBe(true);
    expect(withHeader!.headers).toEqual([{ key: "a", value: "1" }]);
  });

  test("a record's value is a view of its own batch's bytes, never of the fetch response around it", () => {
    const batches = [batchAt(0n, [message(0), message(1)]), batchAt(2n, [message(2)])];
    // the response's bytes inside a larger buffer, as a socket chunk holds them
    const response = Buffer.concat([Buffer.alloc(4096), ...batches, Buffer.alloc(4096)]);
    const bytes = response.subarray(4096, response.byteLength - 4096);
    const { records } = decodeRecordBatches(source(bytes));
    const values = records.map((record) => record.value!);
    expect(values.map((value) => Buffer.from(value).toString())).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    expect(values.every((value) => value.buffer !== response.buffer)).toBe(true);
    // each holds at most its batch: the first two share theirs, the third has its own
    expect(values[0]!.buffer).toBe(values[1]!.buffer);
    expect(values[2]!.buffer).not.toBe(values[0]!.buffer);
    expect(values[0]!.buffer.byteLength).toBeLessThan(batches[0]!.byteLength);
    // the response's memory reused (the socket's next read) changes no value
    response.fill(0);
    expect(values.map((value) => Buffer.from(value).toString())).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
  });

  test("a batch cut off by the fetch's byte limit is left for the next fetch, the whole ones before it are read", () => {
    const whole = batchAt(0n, [message(0), message(1)]);
    const cut = batchAt(2n, [message(2), message(3)]).subarray(0, 40);
    const { records, nextOffset } = decodeRecordBatches(source(Buffer.concat([whole, cut])));
    expect(records.map((r) => r.offset)).toEqual([0, 1]);
    expect(nextOffset).toBe(2n);
    expect(decodeRecordBatches(source(cut)).nextOffset).toBeUndefined();
  });

  test("read_committed: an aborted transaction's batches are skipped up to its marker, a committed one is read, and offsets still advance past both", () => {
    const bytes = Buffer.concat([
      batchAt(0n, [message(0), message(1)], { producerId: 7n, transactional: true }),
      batchAt(2n, [message(2)], { producerId: 8n, transactional: true }),
      markerAt(3n, 7n, "abort"),
      markerAt(4n, 8n, "commit"),
      batchAt(5n, [message(5)], { producerId: 7n, transactional: true }),
      markerAt(6n, 7n, "commit"),
    ]);
    const { records, nextOffset } = decodeRecordBatches(
      source(bytes, 0n, { abortedTransactions: [{ producerId: 7n, firstOffset: 0n }] }),
    );
    expect(records.map((r) => r.offset)).toEqual([2, 5]);
    expect(nextOffset).toBe(7n);
  });
});

/** bytes of a valid one-batch fetch, changed by `mutate`, with the CRC made right again when asked */
function hostile(mutate: (bytes: Buffer) => Buffer | undefined, fixCrc = true): Buffer {
  const valid = batchAt(0n, [message(0, [["h", "v"]]), message(1)]);
  const bytes = mutate(valid) ?? valid;
  if (fixCrc && bytes.byteLength >= 21) bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
  return bytes;
}

/** the first record's fields start after the 61-byte header and its one-byte length */
const RECORD = 61;

const HOSTILE: ReadonlyArray<{ name: string; bytes: () => Buffer; reason: RegExp }> = [
  {
    name: "a flipped bit in a value (bad CRC)",
    bytes: () =>
      hostile((b) => {
        b.writeUInt8(b[b.byteLength - 3]! ^ 1, b.byteLength - 3);
        return undefined;
      }, false),
    reason: /CRC-32C/,
  },
  {
    name: "a batch length below its own header",
    bytes: () =>
      hostile((b) => {
        b.writeInt32BE(10, 8);
        return undefined;
      }, false),
    reason: /below the 49-byte header/,
  },
  {
    name: "an absurd batch length (2 GiB)",
    bytes: () =>
      hostile((b) => {
        b.writeInt32BE(0x7fff_ffff, 8);
        return undefined;
      }, false),
    reason: /exceeds the limit/,
  },
  {
    name: "message format v1",
    bytes: () =>
      hostile((b) => {
        b.writeInt8(1, 16);
        return undefined;
      }, false),
    reason: /message format v1 is not supported/,
  },
  {
    name: "a record count of a billion",
    bytes: () =>
      hostile((b) => {
        b.writeInt32BE(1_000_000_000, 57);
        return undefined;
      }),
    reason: /record count 1000000000 does not fit/,
  },
  {
    name: "a negative record count",
    bytes: () =>
      hostile((b) => {
        b.writeInt32BE(-5, 57);
        return undefined;
      }),
    reason: /record count -5 does not fit/,
  },
  {
    name: "a record length past the batch",
    bytes: () =>
      hostile((b) => {
        b.writeUInt8(0x7e, RECORD);
        return undefined;
      }),
    reason: /record length 63 does not fit/,
  },
  {
    name: "a key length past the record",
    bytes: () =>
      hostile((b) => {
        b.writeUInt8(0x7e, RECORD + 4);
        return undefined;
      }),
    reason: /a length of 63 does not fit/,
  },
  {
    name: "a key length below -1",
    bytes: () =>
      hostile((b) => {
        b.writeUInt8(0x05, RECORD + 4);
        return undefined;
      }),
    reason: /a length of -3 does not fit/,
  },
  {
    name: "a varint that never ends (nested junk)",
    bytes: () =>
      hostile((b) => {
        b.fill(0xff, RECORD + 1, b.byteLength);
        return undefined;
      }),
    reason: /varint|varlong/,
  },
  {
    name: "compressed junk (lz4 flag on plain records)",
    bytes: () =>
      hostile((b) => {
        b.writeInt16BE(3, 21);
        return undefined;
      }),
    reason: /lz4 data is invalid: no LZ4 frame magic/,
  },
  {
    name: "an unknown compression codec",
    bytes: () =>
      hostile((b) => {
        b.writeInt16BE(6, 21);
        return undefined;
      }),
    reason: /codec 6 is unknown/,
  },
  {
    name: "bytes left over after the last record",
    bytes: () =>
      hostile((b) => {
        const longer = Buffer.concat([b, Buffer.from([0, 0, 0])]);
        longer.writeInt32BE(longer.readInt32BE(8) + 3, 8);
        return longer;
      }),
    reason: /3 bytes follow the batch's 2 records/,
  },
];

/** the corruption a decode met, failing the test when it met none */
function corruptionOf(decoded: DecodedBatches): PlatformError {
  if (decoded.corrupt === undefined) throw new Error("expected the decode to meet a corrupt batch");
  return decoded.corrupt.error;
}

describe("hostile record batches", () => {
  test.each(HOSTILE)(
    "$name is a LOG_BATCH_CORRUPT error naming the partition and offset",
    ({ bytes, reason }) => {
      const decoded = decodeRecordBatches(source(bytes()));
      expect(decoded.records).toEqual([]);
      expect(decoded.nextOffset).toBeUndefined();
      const failure = corruptionOf(decoded);
      expect(failure).toBeInstanceOf(PlatformError);
      expect(failure.code).toBe(ErrorCodes.LOG_BATCH_CORRUPT);
      expect(failure.message).toMatch(/a record batch of t#3 at offset 0 is corrupt: /);
      expect(failure.message).toMatch(reason);
      expect(failure.details).toEqual({ topic: "t", partition: 3, offset: 0 });
      expect(decoded.corrupt?.offset).toBe(0);
    },
  );

  test.each(["gzip", "snappy", "lz4", "zstd"] as CompressionAlgorithmValue[])(
    "a %s bomb is refused at the batch limit instead of inflating in memory",
    (compression) => {
      const bomb = batchAt(0n, [{ ...message(0), value: Buffer.alloc(4 * 1024 * 1024) }], { compression });
      expect(bomb.byteLength).toBeLessThan(256 * 1024);
      expect(corruptionOf(decodeRecordBatches(source(bomb), { maxBatchBytes: 1024 * 1024 })).message).toMatch(
        /would decompress to \d+ bytes, over the limit of 1048576|decompresses to more than 1048576 bytes/,
      );
      // the same batch under a limit it fits
      expect(decodeRecordBatches(source(bomb), { maxBatchBytes: 8 * 1024 * 1024 }).records).toHaveLength(1);
    },
  );

  test("random bytes never crash the decoder: each is records or a LOG_BATCH_CORRUPT error", () => {
    const valid = batchAt(0n, [message(0, [["h", "v"]]), message(1), message(2)]);
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fff_ffff;
      return seed;
    };
    for (let round = 0; round < 2_000; round++) {
      const bytes = Buffer.from(valid);
      for (let flips = 1 + (random() % 4); flips > 0; flips--) {
        const at = RECORD + (random() % (bytes.byteLength - RECORD));
        bytes[at] = random() & 0xff;
      }
      // with the CRC made right, the record parser itself meets the junk
      bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
      const { records, corrupt } = decodeRecordBatches(source(bytes));
      if (corrupt === undefined) expect(records.length).toBeLessThanOrEqual(3);
      else {
        // nothing of a corrupt batch comes out, not even the records read before the fault
        expect(records).toEqual([]);
        expect(corrupt.error.code).toBe(ErrorCodes.LOG_BATCH_CORRUPT);
      }
    }
  });
});

describe("a corrupt batch among whole ones", () => {
  const good = (base: bigint, n: number) =>
    batchAt(
      base,
      Array.from({ length: n }, (_, i) => message(Number(base) + i)),
    );
  const flipped = (bytes: Buffer) => {
    const copy = Buffer.from(bytes);
    copy.writeUInt8(copy[copy.byteLength - 3]! ^ 1, copy.byteLength - 3);
    return copy;
  };
  /** a batch that says 3 records but holds 2, its CRC made right: cut short before it was sealed */
  const shortOfRecords = (base: bigint) => {
    const bytes = batchAt(base, [message(Number(base)), message(Number(base) + 1)]);
    bytes.writeInt32BE(3, 57);
    bytes.writeInt32BE(2, 23); // last offset delta 2, so the count is not refused by it alone
    bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
    return bytes;
  };

  test.each([
    {
      name: "a bad CRC in the middle",
      bytes: () => Buffer.concat([good(0n, 2), flipped(good(2n, 2)), good(4n, 2)]),
      records: [0, 1],
      nextOffset: 2n,
      at: 2,
      reason: /CRC-32C/,
    },
    {
      name: "a bad CRC first",
      bytes: () => Buffer.concat([flipped(good(0n, 2)), good(2n, 2)]),
      records: [] as number[],
      nextOffset: undefined,
      at: 0,
      reason: /CRC-32C/,
    },
    {
      name: "a batch short of its records after two whole ones",
      bytes: () => Buffer.concat([good(0n, 1), good(1n, 2), shortOfRecords(3n)]),
      records: [0, 1, 2],
      nextOffset: 3n,
      at: 3,
      reason: /record 2: /,
    },
    {
      name: "a batch length below the header after a whole one",
      bytes: () => {
        const broken = Buffer.from(good(2n, 1));
        broken.writeInt32BE(20, 8);
        return Buffer.concat([good(0n, 2), broken]);
      },
      records: [0, 1],
      nextOffset: 2n,
      at: 2,
      reason: /batch length 20 is below/,
    },
  ])(
    "$name: the whole batches before it are records, decoding stops at it, nothing after it is read",
    ({ bytes, records, nextOffset, at, reason }) => {
      const decoded = decodeRecordBatches(source(bytes()));
      expect(decoded.records.map((r) => r.offset)).toEqual([...records]);
      expect(decoded.nextOffset).toBe(nextOffset);
      expect(decoded.corrupt?.offset).toBe(at);
      expect(corruptionOf(decoded).message).toMatch(reason);
      expect(corruptionOf(decoded).details).toEqual({ topic: "t", partition: 3, offset: at });
    },
  );
});
