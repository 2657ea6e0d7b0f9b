import { describe, expect, test } from "bun:test";
import { compressionsAlgorithms } from "@platformatic/kafka";
import { lz4FrameBound, snappyBound } from "../../../log/kafka/decompressed-size.ts";

const data = Buffer.from("a reading, a reading, a reading ".repeat(5_000));
const lz4 = () => Buffer.from(compressionsAlgorithms.lz4.compressSync(data));
const snappy = () => Buffer.from(compressionsAlgorithms.snappy.compressSync(data));

/** Kafka's Java client frames Snappy the xerial way: magic, versions, then length-prefixed chunks */
function xerial(...chunks: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  return Buffer.concat([
    header,
    ...chunks.flatMap((chunk) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(chunk.byteLength);
      return [length, chunk];
    }),
  ]);
}

describe("the decompressed size of a batch, from its framing", () => {
  test("an LZ4 frame's bound covers what it decompresses to, within one block", () => {
    const size = lz4FrameBound(lz4());
    expect(
      "bound" in size && size.bound >= data.byteLength && size.bound <= data.byteLength + 4 * 1024 * 1024,
    ).toBe(true);
  });

  test("raw Snappy states its length exactly; xerial chunks add up", () => {
    expect(snappyBound(snappy())).toEqual({ bound: data.byteLength });
    expect(snappyBound(xerial(snappy(), snappy()))).toEqual({ bound: 2 * data.byteLength });
  });

  test.each([
    {
      name: "LZ4 without its magic",
      size: () => lz4FrameBound(Buffer.from("not a frame")),
      reason: /no LZ4 frame magic/,
    },
    {
      name: "LZ4 of another frame version",
      size: () => {
        const frame = lz4();
        frame[4] = frame[4]! & 0b0011_1111;
        return lz4FrameBound(frame);
      },
      reason: /LZ4 frame version 0/,
    },
    {
      name: "LZ4 with a block size code out of the table",
      size: () => {
        const frame = lz4();
        frame[5] = 0b0001_0000;
        return lz4FrameBound(frame);
      },
      reason: /LZ4 block size code 1/,
    },
    {
      name: "LZ4 cut before its end mark",
      size: () => {
        const frame = lz4();
        return lz4FrameBound(frame.subarray(0, frame.byteLength - 4));
      },
      reason: /without its end mark/,
    },
    {
      name: "an LZ4 block larger than its frame allows",
      size: () => {
        const frame = Buffer.from(lz4().subarray(0, 7));
        frame[5] = 0b0100_0000; // 64 KiB blocks
        const block = Buffer.alloc(4);
        block.writeUInt32LE(0x7fff_0000);
        return lz4FrameBound(Buffer.concat([frame, block]));
      },
      reason: /an LZ4 block of \d+ bytes over its frame's 65536/,
    },
    {
      name: "Snappy with an endless length",
      size: () => snappyBound(Buffer.alloc(8, 0xff)),
      reason: /without its length/,
    },
    {
      name: "a xerial chunk past the batch",
      size: () => {
        const framed = xerial(snappy());
        framed.writeUInt32BE(10_000_000, 16);
        return snappyBound(framed);
      },
      reason: /a Snappy chunk of 10000000 bytes past the batch/,
    },
  ])("$name is invalid, with the reason", ({ size, reason }) => {
    const answer = size();
    expect("invalid" in answer ? answer.invalid : `a bound of ${answer.bound}`).toMatch(reason);
  });
});
