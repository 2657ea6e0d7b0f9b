import { createRequire } from "node:module";
import { lz4Decompress, snappyDecompress, crc32c as wasmCrc32c } from "@platformatic/wasm-utils";

/**
 * The checksum and decompressors a record batch needs, from the packages @platformatic/kafka
 * itself uses, imported directly: loading the library's entry point compiles its option schemas
 * (0.32 s of CPU), which the batch decode thread (batch-decode-thread.ts) must not pay.
 *
 * CRC-32C is native (@node-rs/crc32, as the library prefers it) where its binary exists for the
 * platform, else WebAssembly. Called directly on the batch's bytes: the library's wrapper copies
 * its input into a new array first. gzip and zstd come from node:zlib in the decoder.
 */

type Checksum = (bytes: Uint8Array) => number;

function loadCrc32c(): Checksum {
  try {
    const native = createRequire(import.meta.url)("@node-rs/crc32") as { crc32c: Checksum };
    return (bytes) => native.crc32c(bytes) >>> 0;
  } catch {
    // an optional native binary missing for this platform is expected: WebAssembly does the same
    return (bytes) => wasmCrc32c(bytes);
  }
}

export const crc32c: Checksum = loadCrc32c();

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/**
 * Snappy as Kafka's producers write it: raw, or in the xerial framing of the Java client (an
 * 8-byte magic, two 4-byte versions, then chunks of a 4-byte BE length and a raw block), as the
 * library reads it. Sizes were checked against the input before (decompressed-size.ts).
 */
function decompressSnappy(data: Buffer): Uint8Array {
  if (!data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return snappyDecompress(data);
  const chunks: Uint8Array[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error("a xerial snappy chunk length is cut short");
    const length = data.readUInt32BE(at);
    at += 4;
    if (at + length > data.length) throw new Error("a xerial snappy chunk runs past the data");
    chunks.push(snappyDecompress(data.subarray(at, at + length)));
    at += length;
  }
  return Buffer.concat(chunks);
}

/** the WebAssembly decompressors of codecs 2 (snappy) and 3 (lz4 frame), as the library's */
export const wasmDecompress: Readonly<Record<2 | 3, (bytes: Buffer) => Uint8Array>> = {
  2: decompressSnappy,
  3: lz4Decompress,
};
