/**
 * How large a compressed record batch can become, read from its framing before anything is
 * decompressed. gzip and zstd are stopped at a limit by zlib itself (maxOutputLength); the LZ4
 * and Snappy decompressors the library ships (WebAssembly) take no limit, and LZ4 expands up to
 * ~255x, so a hostile 64 MiB batch could ask for 16 GiB. Their framing states the sizes:
 *
 * - LZ4 frame (lz4 frame format 1.6, what Kafka's producers write): magic 0x184D2204 (LE),
 *   FLG (version 01 in bits 6-7; bit 4 block checksums, bit 3 content size, bit 0 dictionary
 *   id), BD (bits 4-6: block maximum 64 KiB, 256 KiB, 1 MiB, 4 MiB), the optional content size
 *   (8 bytes LE) and dictionary id (4), a header checksum byte, then blocks of a 4-byte LE size
 *   (high bit: stored uncompressed) ended by a zero size. No block decompresses to more than the
 *   block maximum.
 * - Snappy, raw (a varint of the uncompressed length first) or in the xerial framing Kafka's
 *   Java client writes: an 8-byte magic, version and compatible version (4 bytes each), then
 *   chunks of a 4-byte BE length and a raw Snappy block.
 *
 * Each function answers an upper bound of the decompressed bytes, or why the framing is invalid.
 */

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX: Readonly<Record<number, number>> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER_BYTES = 16;

export type SizeBound = { readonly bound: number } | { readonly invalid: string };

export function lz4FrameBound(input: Uint8Array): SizeBound {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.byteLength < 7 || view.getUint32(0, true) !== LZ4_MAGIC) return { invalid: "no LZ4 frame magic" };
  const flags = input[4]!;
  if (flags >> 6 !== 1) return { invalid: `LZ4 frame version ${flags >> 6}` };
  const blockMax = LZ4_BLOCK_MAX[(input[5]! >> 4) & 0b111];
  if (blockMax === undefined) return { invalid: `LZ4 block size code ${(input[5]! >> 4) & 0b111}` };
  let at = 6;
  let contentSize = Number.POSITIVE_INFINITY;
  if ((flags & 0b1000) !== 0) {
    if (at + 8 > input.byteLength) return { invalid: "an LZ4 frame header cut short" };
    contentSize = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    at += 8;
  }
  if ((flags & 0b1) !== 0) at += 4;
  at += 1; // header checksum
  const checksumBytes = (flags & 0b1_0000) !== 0 ? 4 : 0;
  let bound = 0;
  for (;;) {
    if (at + 4 > input.byteLength) return { invalid: "an LZ4 frame without its end mark" };
    const word = view.getUint32(at, true);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fff_ffff;
    if (size > blockMax) return { invalid: `an LZ4 block of ${size} bytes over its frame's ${blockMax}` };
    at += size + checksumBytes;
    bound += (word & 0x8000_0000) !== 0 ? size : blockMax;
  }
  return { bound: Math.min(bound, contentSize) };
}

/** the uncompressed length a raw Snappy block starts with (a varint of up to 32 bits) */
function snappyLength(input: Uint8Array, start: number, end: number): number | undefined {
  let length = 0;
  for (let i = 0, at = start; i < 5 && at < end; i++, at++) {
    const byte = input[at]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return length;
  }
  return undefined;
}

export function snappyBound(input: Uint8Array): SizeBound {
  const xerial =
    input.byteLength >= XERIAL_HEADER_BYTES && XERIAL_MAGIC.every((byte, i) => input[i] === byte);
  if (!xerial) {
    const length = snappyLength(input, 0, input.byteLength);
    return length === undefined ? { invalid: "a Snappy block without its length" } : { bound: length };
  }
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let bound = 0;
  for (let at = XERIAL_HEADER_BYTES; at < input.byteLength; ) {
    if (at + 4 > input.byteLength) return { invalid: "a Snappy chunk length cut short" };
    const size = view.getUint32(at);
    at += 4;
    if (at + size > input.byteLength) return { invalid: `a Snappy chunk of ${size} bytes past the batch` };
    const length = snappyLength(input, at, at + size);
    if (length === undefined) return { invalid: "a Snappy chunk without its length" };
    bound += length;
    at += size;
  }
  return { bound };
}
