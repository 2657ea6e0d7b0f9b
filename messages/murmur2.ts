/**
 * Kafka's default partitioner, byte-exact: MurmurHash2 (Austin Appleby, 32-bit, little-endian
 * blocks) with Kafka's seed 0x9747b28c, as in `org.apache.kafka.common.utils.Utils.murmur2`,
 * and `partition = toPositive(murmur2(utf8(key))) % partitions` as in
 * `BuiltInPartitioner.partitionForKey`. Actor placement uses the same function, so the home
 * worker of `sensor/<id>` is the worker that owns the Kafka partition of records keyed `<id>`.
 *
 * Results are signed 32-bit integers like Java's `int`; verified against Kafka's
 * `UtilsTest.testMurmur2` vectors and against kafka-clients 4.1.1 for keys with unpaired
 * surrogates (test/supervisor/murmur2.test.ts).
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** MurmurHash2 of `bytes[offset, offset + length)`, as a signed 32-bit integer. */
export function murmur2(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  let h = SEED ^ length;
  const blocks = length >>> 2;
  let i = offset;
  for (let b = 0; b < blocks; b++, i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Kafka's switch falls through from 3 to 1 over the trailing bytes.
  const tail = length & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= bytes[i + 2]! << 16;
    if (tail >= 2) h ^= bytes[i + 1]! << 8;
    h ^= bytes[i]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which fails on MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

// A reused scratch buffer: keys are encoded into it, so hashing a key allocates nothing.
let scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/** UTF-8 bytes of `key` in the shared scratch buffer; returns the byte length. */
function encodeKey(key: string): number {
  const n = key.length;
  if (n <= scratch.length) {
    let i = 0;
    for (; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      scratch[i] = c;
    }
    if (i === n) return n;
  }
  // Non-ASCII (or long) key: at most 3 UTF-8 bytes per UTF-16 unit.
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3);
  return encoder.encodeInto(javaEncodable(key), scratch).written;
}

// An unpaired UTF-16 surrogate: a high one not followed by a low one, or a low one not preceded
// by a high one (code units, hence no `u` flag).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The key as Kafka's Java client encodes it: `String.getBytes(UTF_8)` (StringSerializer) replaces
 * each unpaired surrogate with '?' (0x3F), where TextEncoder writes U+FFFD (3 bytes); a key
 * carrying one must still land on the partition a Java producer would choose.
 */
function javaEncodable(key: string): string {
  return key.replace(LONE_SURROGATE, "?");
}

/** MurmurHash2 of the UTF-8 bytes of `key`, without allocating for keys up to 256 bytes. */
export function murmur2OfKey(key: string): number {
  const length = encodeKey(key);
  return murmur2(scratch, 0, length);
}

/** The Kafka partition of a record keyed `key`: `toPositive(murmur2(utf8(key))) % partitions`. */
export function partitionFor(key: string, partitions: number): number {
  return toPositive(murmur2OfKey(key)) % partitions;
}
