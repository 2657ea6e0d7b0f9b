import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../messages/errors.ts";
import type { RecordChannel, RecordReader, RecordWriter } from "../../supervisor/transport.ts";

/**
 * The conformance suite every transport runs (in-process, SAB ring in one thread, SAB ring
 * across a real Worker). `makePair(capacity)` returns a writer and reader whose data region is
 * `capacity` bytes per ring; implementations with more buffering in between (a relay worker)
 * must still keep order, integrity and back-pressure.
 */
export interface TransportUnderTest extends RecordChannel {
  close(): Promise<void> | void;
}

export type MakePair = (capacity: number) => Promise<TransportUnderTest> | TransportUnderTest;

/** Deterministic record `seq`: [u32 seq][payload...][u32 checksum of everything before]. */
export function recordFor(seq: number, length: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(length, 8));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seq, true);
  for (let i = 4; i < bytes.length - 4; i++) bytes[i] = (seq * 31 + i * 7) & 0xff;
  view.setUint32(bytes.length - 4, checksum(bytes, 0, bytes.length - 4), true);
  return bytes;
}

export function checksum(bytes: Uint8Array, offset: number, length: number): number {
  let sum = 0x811c9dc5; // FNV-1a
  for (let i = offset; i < offset + length; i++) sum = Math.imul(sum ^ bytes[i]!, 0x01000193);
  return sum >>> 0;
}

/** Check a record made by `recordFor`; returns its seq. */
export function verifyRecord(bytes: Uint8Array, offset: number, length: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  const expected = view.getUint32(length - 4, true);
  if (checksum(bytes, offset, length - 4) !== expected) throw new Error("checksum mismatch");
  return view.getUint32(0, true);
}

const copy = (bytes: Uint8Array, offset: number, length: number) => bytes.slice(offset, offset + length);

/** Drain until `count` records arrived or `timeoutMs` passed. */
export async function collect(reader: RecordReader, count: number, timeoutMs = 5000): Promise<Uint8Array[]> {
  const records: Uint8Array[] = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count && Date.now() < deadline) {
    reader.drain((b, o, l) => {
      records.push(copy(b, o, l));
    });
    if (records.length < count) await reader.waitForData(20);
  }
  return records;
}

/** Write `records`, flushing every `batch`, draining into `sink` whenever the writer is full. */
async function pump(
  writer: RecordWriter,
  reader: RecordReader,
  total: number,
  make: (seq: number) => Uint8Array,
  sink: (bytes: Uint8Array, offset: number, length: number) => void,
  batch: number,
): Promise<number> {
  let received = 0;
  const onRecord = (b: Uint8Array, o: number, l: number) => {
    received++;
    sink(b, o, l);
  };
  for (let seq = 0; seq < total; ) {
    if (writer.tryWrite(make(seq))) {
      seq++;
      if (seq % batch === 0) writer.flush();
      continue;
    }
    writer.flush();
    if (reader.drain(onRecord) === 0) await reader.waitForData(5);
  }
  writer.flush();
  const deadline = Date.now() + 10_000;
  while (received < total && Date.now() < deadline) {
    if (reader.drain(onRecord) === 0) await reader.waitForData(20);
  }
  return received;
}

export function transportContract(name: string, makePair: MakePair): void {
  describe(`transport contract: ${name}`, () => {
    async function withPair(capacity: number, body: (pair: TransportUnderTest) => Promise<void>) {
      const pair = await makePair(capacity);
      try {
        await body(pair);
      } finally {
        await pair.close();
      }
    }

    test("delivers records in the order written with their exact bytes", () =>
      withPair(4096, async ({ writer, reader }) => {
        const sent = Array.from({ length: 50 }, (_, seq) => recordFor(seq, 8 + ((seq * 13) % 90)));
        for (const record of sent) expect(writer.tryWrite(record)).toBe(true);
        writer.flush();
        expect(await collect(reader, sent.length)).toEqual(sent);
      }));

    test("publishes nothing before flush and the whole batch after it", () =>
      withPair(4096, async ({ writer, reader }) => {
        for (let seq = 0; seq < 10; seq++) writer.tryWrite(recordFor(seq, 16));
        await reader.waitForData(30);
        expect(reader.drain(() => {})).toBe(0);
        writer.flush();
        const records = await collect(reader, 10);
        expect(records.map((r) => verifyRecord(r, 0, r.length))).toEqual([...Array(10).keys()]);
      }));

    test("carries an empty record as a record of length zero", () =>
      withPair(1024, async ({ writer, reader }) => {
        expect(writer.tryWrite(new Uint8Array(0))).toBe(true);
        expect(writer.tryWrite(recordFor(1, 8))).toBe(true);
        writer.flush();
        const records = await collect(reader, 2);
        expect(records[0]!.length).toBe(0);
        expect(verifyRecord(records[1]!, 0, 8)).toBe(1);
      }));

    test("carries a record of exactly the maximum size and rejects one byte more", () =>
      withPair(1024, async ({ writer, reader }) => {
        const max = writer.maxRecordBytes;
        expect(max).toBeGreaterThanOrEqual(256);
        const big = recordFor(7, max);
        // fill part of the ring first so the big record must wrap
        for (let seq = 0; seq < 5; seq++) expect(writer.tryWrite(recordFor(seq, 60))).toBe(true);
        writer.flush();
        expect((await collect(reader, 5)).length).toBe(5);
        expect(writer.tryWrite(big)).toBe(true);
        writer.flush();
        const [received] = await collect(reader, 1);
        expect(received).toEqual(big);
        for (const attempt of [
          () => writer.tryWrite(new Uint8Array(max + 1)),
          () => writer.reserve(max + 1),
        ]) {
          let caught: unknown;
          try {
            attempt();
          } catch (error) {
            caught = error;
          }
          expect(isPlatformError(caught, "RING_RECORD_TOO_LARGE")).toBe(true);
        }
      }));

    test("writes in place through reserve and commit, keeping only the committed length", () =>
      withPair(1024, async ({ writer, reader }) => {
        for (let seq = 0; seq < 40; seq++) {
          const slot = writer.reserve(64);
          expect(slot).not.toBeNull();
          slot!.view.setUint32(slot!.offset, seq, true);
          slot!.bytes[slot!.offset + 4] = 0xab;
          writer.commit(5);
          if (seq % 8 === 7) writer.flush();
        }
        writer.flush();
        const records = await collect(reader, 40);
        expect(records.map((r) => [r.length, new DataView(r.buffer).getUint32(0, true), r[4]])).toEqual(
          Array.from({ length: 40 }, (_, seq) => [5, seq, 0xab]),
        );
      }));

    test("a handler that returns false leaves that record and the rest for the next drain", () =>
      withPair(4096, async ({ writer, reader }) => {
        for (let seq = 0; seq < 10; seq++) writer.tryWrite(recordFor(seq, 16));
        writer.flush();
        expect(await reader.waitForData(5000)).toBe(true);
        const first: number[] = [];
        const deadline = Date.now() + 5000;
        // a relay may publish the batch in parts: keep draining until the refusal happens
        while (first.length < 4 && Date.now() < deadline) {
          reader.drain((b, o, l) => {
            if (first.length === 4) return false;
            first.push(verifyRecord(b, o, l));
            return true;
          });
          if (first.length < 4) await reader.waitForData(20);
        }
        expect(first).toEqual([0, 1, 2, 3]);
        const rest = await collect(reader, 6);
        expect(rest.map((r) => verifyRecord(r, 0, r.length))).toEqual([4, 5, 6, 7, 8, 9]);
      }));

    test("wraps around the ring many times without losing or reordering a record", () =>
      withPair(1024, async ({ writer, reader }) => {
        const seen: number[] = [];
        const total = 5000; // ~60 bytes each: about 300 laps of a 1 KiB ring
        const received = await pump(
          writer,
          reader,
          total,
          (seq) => recordFor(seq, 8 + ((seq * 37) % 100)),
          (b, o, l) => seen.push(verifyRecord(b, o, l)),
          7,
        );
        expect(received).toBe(total);
        expect(seen).toEqual([...Array(total).keys()]);
      }));

    test("refuses writes when full without dropping, then resumes once the reader frees space", () =>
      withPair(1024, async ({ writer, reader }) => {
        let written = 0;
        while (written < 10_000 && writer.tryWrite(recordFor(written, 40))) {
          written++;
          // a relay in between may drain concurrently; give it a chance now and then
          if (written % 64 === 0) await Bun.sleep(1);
        }
        expect(written).toBeLessThan(10_000);
        expect(written).toBeGreaterThan(0);
        expect(writer.tryWrite(recordFor(written, 40))).toBe(false);
        const freed = writer.waitForSpace(5000);
        const records = await collect(reader, written);
        expect(await freed).toBe(true);
        expect(records.map((r) => verifyRecord(r, 0, r.length))).toEqual([...Array(written).keys()]);
        expect(writer.tryWrite(recordFor(written, 40))).toBe(true);
        writer.flush();
        const [next] = await collect(reader, 1);
        expect(verifyRecord(next!, 0, next!.length)).toBe(written);
      }));

    test("waitForData times out on an empty channel and wakes on a flush", () =>
      withPair(1024, async ({ writer, reader }) => {
        const started = Date.now();
        expect(await reader.waitForData(30)).toBe(false);
        expect(Date.now() - started).toBeGreaterThanOrEqual(20);
        const woken = reader.waitForData(5000);
        setTimeout(() => {
          writer.tryWrite(recordFor(1, 8));
          writer.flush();
        }, 10);
        expect(await woken).toBe(true);
        expect((await collect(reader, 1)).length).toBe(1);
      }));

    test("moves 100k records in batches intact (checksums, sequence)", () =>
      withPair(64 * 1024, async ({ writer, reader }) => {
        const total = 100_000;
        let expected = 0;
        let outOfOrder = 0;
        const received = await pump(
          writer,
          reader,
          total,
          (seq) => recordFor(seq, 12 + (seq % 37)),
          (b, o, l) => {
            if (verifyRecord(b, o, l) !== expected) outOfOrder++;
            expected++;
          },
          1000,
        );
        expect(received).toBe(total);
        expect(outOfOrder).toBe(0);
      }));
  });
}
