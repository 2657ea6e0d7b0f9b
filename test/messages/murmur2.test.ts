import { describe, expect, test } from "bun:test";
import { murmur2, murmur2OfKey, partitionFor, toPositive } from "../../messages/murmur2.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

// Kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
const kafkaVectors: ReadonlyArray<readonly [string, Uint8Array, number]> = [
  ["21", utf8("21"), -973932308],
  ["foobar", utf8("foobar"), -790332482],
  ["a-little-bit-long-string", utf8("a-little-bit-long-string"), -985981536],
  ["a-little-bit-longer-string", utf8("a-little-bit-longer-string"), -1486304829],
  [
    "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
    utf8("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
    -58897971,
  ],
  ["{'a','b','c'}", new Uint8Array([97, 98, 99]), 479470107],
];

// kafka-clients 4.1.1: Utils.murmur2(key.getBytes(StandardCharsets.UTF_8)), computed with Java 17.
// Java replaces each unpaired surrogate with '?', so these keys hash like their '?' spelling.
const javaKeyVectors: ReadonlyArray<readonly [string, string, number]> = [
  ["a lone high surrogate", "\uD800", -323429624],
  ["a lone low surrogate", "\uDC00", -323429624],
  ["a high surrogate between ASCII", "a\uD83Dz", -406200837],
  ["a lone low surrogate inside a sensor id", "sensor_\uDFFF_7", 67041681],
  ["a low surrogate before a high one", "\uDC00\uD800", -949127636],
  ["a proper surrogate pair", "\uD83D\uDE80", 761778625],
  ["a pair followed by a lone high surrogate", "x\uD83D\uDE80\uD800", -846892531],
  ["a lone high surrogate before a pair", "\uD800\uD800\uDC00", 231192295],
  ["a trailing high surrogate", "bad\uDBFF", -522098537],
];

describe("murmur2", () => {
  test.each(javaKeyVectors)("hashes a key with %s like Kafka's Java client", (_name, key, expected) => {
    expect(murmur2OfKey(key)).toBe(expected);
  });

  test("places a key with an unpaired surrogate on the partition a Java producer chooses", () => {
    // Regression: TextEncoder wrote U+FFFD (3 bytes) where Java writes '?', moving the key.
    expect(partitionFor("a\uD83Dz", 12)).toBe(11);
    expect(partitionFor("sensor_\uDFFF_7", 12)).toBe(9);
    expect(partitionFor("bad\uDBFF", 12)).toBe(3);
  });

  test.each(kafkaVectors)("hashes %p to Kafka's published value", (_name, bytes, expected) => {
    expect(murmur2(bytes)).toBe(expected);
  });

  test("hashes a key string exactly like its UTF-8 bytes", () => {
    for (const [name, bytes, expected] of kafkaVectors) {
      if (name.startsWith("{")) continue;
      expect(murmur2OfKey(name)).toBe(expected);
      expect(murmur2OfKey(name)).toBe(murmur2(bytes));
    }
  });

  test("hashes a slice of a larger buffer like the slice alone", () => {
    const inner = utf8("a-little-bit-longer-string");
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 3);
    expect(murmur2(outer, 3, inner.length)).toBe(-1486304829);
  });

  test("agrees between the scratch-buffer path and plain encoding for unicode and long keys", () => {
    const keys = ["", "ß", "sensör/温度", "🚦traffic_3", "x".repeat(300), `${"é".repeat(200)}z`, "\u0080"];
    for (const key of keys) expect(murmur2OfKey(key)).toBe(murmur2(utf8(key)));
  });

  test("toPositive clears the sign bit like Kafka's Utils.toPositive", () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(5)).toBe(5);
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
  });

  test("partitionFor is toPositive(murmur2(utf8(key))) mod partitions and stays in range", () => {
    expect(partitionFor("21", 12)).toBe((-973932308 & 0x7fffffff) % 12);
    expect(partitionFor("foobar", 7)).toBe((-790332482 & 0x7fffffff) % 7);
    for (let i = 0; i < 1000; i++) {
      const p = partitionFor(`sensor_${i}`, 12);
      expect(p >= 0 && p < 12).toBe(true);
    }
  });
});
