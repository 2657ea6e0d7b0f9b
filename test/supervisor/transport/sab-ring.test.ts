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
