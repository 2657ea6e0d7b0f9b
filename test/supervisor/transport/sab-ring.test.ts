import { expect, test } from "bun:test";
import {
  createSabRing,
  openSabRingReader,
  openSabRingWriter,
  sabRingChannel,
} from "../../../supervisor/transport/sab-ring.ts";
import { collect, recordFor, transportContract, verifyRecord } from "../transport.contract.ts";

transportContract("SAB ring in one thread", (capacity) => ({ ...sabRingChannel(capacity), close() {} }));

transportContract("SAB ring across a Worker (relay)", async (capacity) => {
  const inbound = createSabRing(capacity);
  const outbound = createSabRing(capacity);
  const worker = new Worker(new URL("./relay-worker.ts", import.meta.url).href);
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ready?: boolean; error?: string }>) => {
      if (event.data.ready) resolve();
      else reject(new Error(event.data.error));
    };
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage({ inbound, outbound });
  });
  return {
    writer: openSabRingWriter(inbound),
    reader: openSabRingReader(outbound),
    close: () => worker.terminate(),
  };
});

test("a ring opened from the buffer alone continues where the other end left off", async () => {
  const ring = createSabRing(256);
  const writer = openSabRingWriter(ring);
  for (let seq = 0; seq < 3; seq++) writer.tryWrite(recordFor(seq, 20));
  writer.flush();
  const first = openSabRingReader(ring);
  expect(first.drain(() => {}, 1)).toBe(1);
  const second = openSabRingReader(ring);
  const rest = await collect(second, 2);
  expect(rest.map((r) => verifyRecord(r, 0, r.length))).toEqual([1, 2]);
});

test("a ring capacity that is not a power of two is a configuration error", () => {
  expect(() => createSabRing(1000)).toThrow(/CONFIG_INVALID/);
});

test("records written from one reused scratch buffer arrive as they were when written, aligned or not (the word copy)", async () => {
  const { writer, reader } = sabRingChannel(1 << 16);
  const scratch = new Uint8Array(256);
  const expected: Uint8Array[] = [];
  // aligned and unaligned starts, lengths around the word size and the 64-byte hand-copy limit
  const shapes: Array<[number, number]> = [];
  for (const start of [0, 1, 2, 3, 4, 8, 12])
    for (const length of [1, 3, 4, 5, 31, 55, 63, 64, 65, 100]) shapes.push([start, length]);
  for (let round = 0; round < 3; round++) {
    for (const [start, length] of shapes) {
      for (let i = 0; i < length; i++) scratch[start + i] = (round * 97 + start * 13 + length * 7 + i) & 0xff;
      const record = scratch.subarray(start, start + length);
      expected.push(record.slice());
      expect(writer.tryWrite(record)).toBe(true);
    }
    writer.flush();
  }
  // a record from a fresh buffer between two from the scratch one
  const fresh = Uint8Array.from([9, 8, 7, 6, 5]);
  expected.push(fresh.slice());
  expect(writer.tryWrite(fresh)).toBe(true);
  writer.flush();
  const received = await collect(reader, expected.length);
  expect(received).toEqual(expected);
});
