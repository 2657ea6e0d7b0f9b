import { describe, expect, test } from "bun:test";
import { createRecordsBatch, type MessageRecord, Reader, readRecordsBatches } from "@platformatic/kafka";
import { fromKafkaBatches } from "../../../log/kafka/kafka-records.ts";

/** a record batch as a fetch response carries it, decoded by the library as the consumer sees it */
function batchAt(firstOffset: bigint, messages: MessageRecord[]) {
  const reader = Reader.from(createRecordsBatch(messages).buffer);
  const [batch] = readRecordsBatches(reader);
  return { ...batch!, firstOffset };
}

const message = (i: number, headers: Array<[string, string]> = []): MessageRecord => ({
  topic: "t",
  partition: 0,
  key: Buffer.from(`sensor-${i}`),
  value: Buffer.from(`{"i":${i}}`),
  timestamp: 1_764_600_000_000n + BigInt(i),
  headers: new Map(headers.map(([key, value]) => [Buffer.from(key), Buffer.from(value)])),
});

describe("Kafka record batches to log records", () => {
  test("offsets and timestamps come out exact, records before the asked offset are dropped", () => {
    const batch = batchAt(
      9_007_199_254_740_000n,
      [0, 1, 2, 3].map((i) => message(i)),
    );
    const { records, nextOffset } = fromKafkaBatches("t", 3, [batch], 9_007_199_254_740_002n);
    expect(records.map((r) => r.offset)).toEqual([9_007_199_254_740_002, 9_007_199_254_740_003]);
    expect(records.map((r) => r.timestamp)).toEqual([1_764_600_000_002, 1_764_600_000_003]);
    expect(records.map((r) => r.key)).toEqual(["sensor-2", "sensor-3"]);
    expect(new TextDecoder().decode(records[0]!.value!)).toBe('{"i":2}');
    expect(nextOffset).toBe(9_007_199_254_740_004n);
  });

  test("header names that change from record to record are each their own (regression: the name cache)", () => {
    const batch = batchAt(0n, [
      message(0, [["ingested_at", "10"]]),
      message(1, [["ingested_by", "edge"]]),
      message(2, [
        ["ingested_at", "12"],
        ["ingested_at", "13"],
      ]),
      message(3, []),
      message(4, [["ingested_by", "edge-2"]]),
    ]);
    const { records } = fromKafkaBatches("t", 0, [batch], 0n);
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

  test("a record's value is its own copy, not a view that keeps the fetch response alive", () => {
    const batch = batchAt(0n, [message(0)]);
    const [record] = fromKafkaBatches("t", 0, [batch], 0n).records;
    expect(record!.value!.byteLength).toBe(record!.value!.buffer.byteLength);
  });
});
