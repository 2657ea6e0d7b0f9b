import { describe, expect, test } from "bun:test";
import {
  partitionOfKeyBytes,
  recordSize,
  recordSizeBound,
  toKafkaMessage,
  toKafkaMessages,
} from "../../../log/kafka/kafka-records.ts";
import type { ProducerRecord } from "../../../log/log.ts";
import { partitionFor } from "../../../messages/murmur2.ts";

/** Port records -> the producer's messages: bytes as they were at the append, sizes in UTF-8. */
describe("Kafka producer messages", () => {
  test("a value given as a plain byte array is copied: changing the array later does not change the message", () => {
    const value = new TextEncoder().encode('{"count":1}');
    const message = toKafkaMessage({ topic: "t", key: "k", value }, 2, 1_000);
    value[10] = "9".charCodeAt(0);
    expect(Buffer.isBuffer(message.value)).toBe(true);
    expect(message.value?.toString("utf8")).toBe('{"count":1}');
    expect(message.partition).toBe(2);
    expect(message.timestamp).toBe(1_000n);
  });

  test("a value given as a Buffer (a view into a larger one) is sent as exactly its own bytes", () => {
    const whole = Buffer.from("xx-value-yy");
    const message = toKafkaMessage({ topic: "t", key: null, value: whole.subarray(3, 8) }, 0, 1);
    expect(message.value?.toString("utf8")).toBe("value");
    expect(message.key).toBeUndefined();
  });

  test("a null value stays absent (a tombstone) and the record's own timestamp wins over now", () => {
    const message = toKafkaMessage({ topic: "t", key: "k", value: null, timestamp: 5 }, 0, 1_000);
    expect(message.value).toBeUndefined();
    expect(message.timestamp).toBe(5n);
  });

  const sizes: { name: string; record: ProducerRecord; bytes: number }[] = [
    {
      name: "an ASCII key",
      record: { topic: "t", key: "abc", value: new Uint8Array(10) },
      bytes: 32 + 10 + 3,
    },
    { name: "a multi-byte key", record: { topic: "t", key: "é€😀", value: null }, bytes: 32 + 2 + 3 + 4 },
    { name: "no key", record: { topic: "t", key: null, value: new Uint8Array(7) }, bytes: 32 + 7 },
  ];
  for (const { name, record, bytes } of sizes)
    test(`the size of a record with ${name} counts the key's UTF-8 bytes`, () => {
      expect(recordSize(record)).toBe(bytes);
    });

  const bounded: { name: string; key: string | null }[] = [
    { name: "an ASCII key", key: "sensor-1@1764633600000" },
    { name: "two-byte characters", key: "éééé" },
    { name: "three-byte characters", key: "€€€" },
    { name: "astral characters (two UTF-16 units, four bytes)", key: "😀🚦" },
    { name: "a lone surrogate (three bytes as U+FFFD)", key: "a\uD800b" },
    { name: "no key", key: null },
  ];
  for (const { name, key } of bounded)
    test(`the size bound of a record with ${name} is never below its size`, () => {
      const record: ProducerRecord = {
        topic: "t",
        key,
        value: new Uint8Array(5),
        headers: [{ key: "h", value: "v" }],
      };
      expect(recordSizeBound(record)).toBeGreaterThanOrEqual(recordSize(record));
      expect(toKafkaMessages([record], [0], 1).bytes).toBe(recordSize(record));
    });

  test("an append's messages carry each record's own key bytes, whatever the keys beside it", () => {
    const keys = ["sensor-1@1764633600000", "é€😀", "", null, "k".repeat(300), "🚦", "x"];
    const records: ProducerRecord[] = keys.map((key, i) => ({
      topic: i % 2 === 0 ? "a" : "b",
      key,
      value: Buffer.from(`v${i}`),
      timestamp: i === 3 ? 7 : undefined,
    }));
    const { messages, bytes } = toKafkaMessages(records, [3, 0, 1, 2, 11, 5, 4], 1_000);
    expect(bytes).toBe(records.reduce((sum, record) => sum + recordSize(record), 0));
    expect(messages.map((message) => (message.key as Buffer | undefined)?.toString("utf8"))).toEqual(
      keys.map((key) => key ?? undefined),
    );
    expect(messages.map((message) => message.key === undefined)).toEqual(keys.map((key) => key === null));
    expect(messages.map((message) => message.partition)).toEqual([3, 0, 1, 2, 11, 5, 4]);
    expect(messages.map((message) => message.topic)).toEqual(["a", "b", "a", "b", "a", "b", "a"]);
    expect(messages.map((message) => message.timestamp)).toEqual([
      1_000n,
      1_000n,
      1_000n,
      7n,
      1_000n,
      1_000n,
      1_000n,
    ]);
    expect(messages.map((message) => (message.value as Buffer).toString("utf8"))).toEqual(
      keys.map((_, i) => `v${i}`),
    );
    // each key the same bytes the single-record conversion gives
    records.forEach((record, i) => {
      expect(messages[i]!.key).toEqual(toKafkaMessage(record, 0, 1_000).key as Buffer);
    });
  });

  test("an append with only null keys has no keys, and one with no records no messages", () => {
    const { messages } = toKafkaMessages([{ topic: "t", key: null, value: null }], [0], 1);
    expect(messages[0]!.key).toBeUndefined();
    expect(messages[0]!.value).toBeUndefined();
    expect(toKafkaMessages([], [], 1)).toEqual({ messages: [], bytes: 0 });
  });

  // the key bytes the conversion wrote place the record where Kafka's Java client would
  const placements: { name: string; key: string }[] = [
    { name: "an ASCII key", key: "sensor-01234@1764633600000" },
    { name: "a one-byte key", key: "x" },
    { name: "an empty key", key: "" },
    { name: "a key with two- and three-byte characters", key: "é€-sensor" },
    { name: "a surrogate pair", key: "🚦-1" },
    { name: "a lone high surrogate (Java writes '?', the message U+FFFD)", key: "a\uD800b" },
    { name: "a lone low surrogate at the end", key: "ab\uDC00" },
    { name: "a key longer than the hash's scratch buffer", key: "k".repeat(300) },
  ];
  for (const { name, key } of placements)
    test(`a record keyed by ${name} goes to the partition of partitionFor, placed from its written key bytes`, () => {
      const { messages } = toKafkaMessages([{ topic: "t", key, value: null }], undefined, 1);
      const keyBytes = messages[0]!.key as Uint8Array;
      for (const partitions of [1, 3, 12, 1_000])
        expect(partitionOfKeyBytes(key, keyBytes, partitions)).toBe(partitionFor(key, partitions));
    });

  test("without partitions the messages are left unplaced, and records without a timestamp share now's", () => {
    const { messages } = toKafkaMessages(
      [
        { topic: "t", key: "a", value: null },
        { topic: "t", key: "b", value: null, timestamp: 9 },
        { topic: "t", key: "c", value: null },
      ],
      undefined,
      1_000,
    );
    expect(messages.map((message) => message.partition)).toEqual([undefined, undefined, undefined]);
    expect(messages.map((message) => message.timestamp)).toEqual([1_000n, 9n, 1_000n]);
  });
});
