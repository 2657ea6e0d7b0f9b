import { describe, expect, test } from "bun:test";
import { TailCache } from "../../../log/embedded/tail-cache.ts";
import type { LogRecord } from "../../../log/log.ts";

const record = (offset: number, valueBytes = 10): LogRecord => ({
  topic: "t",
  partition: 0,
  offset,
  key: null,
  value: new Uint8Array(valueBytes),
  timestamp: 1,
  headers: [],
});

const offsets = (records: readonly LogRecord[] | undefined) => records?.map((r) => r.offset);

describe("tail cache", () => {
  test("serves contiguous records from an offset it holds, up to maxRecords", () => {
    const cache = new TailCache();
    for (let offset = 5; offset < 10; offset++) cache.appended("t:0", record(offset));
    expect(offsets(cache.read("t:0", 6, 2))).toEqual([6, 7]);
    expect(offsets(cache.read("t:0", 8, 100))).toEqual([8, 9]);
  });

  test.each([
    ["before the tail", 4],
    ["at the end (nothing newer is held)", 10],
    ["past the end", 12],
  ])("answers undefined for an offset %s, so the caller reads SQLite", (_, offset) => {
    const cache = new TailCache();
    for (let o = 5; o < 10; o++) cache.appended("t:0", record(o));
    expect(cache.read("t:0", offset, 10)).toBeUndefined();
    expect(cache.read("other:0", 5, 10)).toBeUndefined();
  });

  test("a gap (another connection appended between) starts the tail again at the new record", () => {
    const cache = new TailCache();
    cache.appended("t:0", record(0));
    cache.appended("t:0", record(1));
    cache.appended("t:0", record(5));
    expect(cache.read("t:0", 0, 10)).toBeUndefined();
    expect(offsets(cache.read("t:0", 5, 10))).toEqual([5]);
  });

  test("keeps at most recordsPerPartition records, dropping the oldest", () => {
    const cache = new TailCache({ recordsPerPartition: 8, totalBytes: 1 << 30 });
    for (let offset = 0; offset < 100; offset++) cache.appended("t:0", record(offset));
    expect(cache.read("t:0", 91, 1)).toBeUndefined();
    expect(offsets(cache.read("t:0", 99, 1))).toEqual([99]);
  });

  test("holds no more than its byte bound over all partitions, however many partitions fill", () => {
    const limit = 100_000;
    const cache = new TailCache({ recordsPerPartition: 1_000_000, totalBytes: limit });
    for (let partition = 0; partition < 50; partition++)
      for (let offset = 0; offset < 200; offset++) {
        cache.appended(`t:${partition}`, record(offset, 1000));
        expect(cache.heldBytes()).toBeLessThanOrEqual(limit);
      }
    expect(offsets(cache.read("t:49", 199, 1))).toEqual([199]);
  });

  test("clear forgets every tail", () => {
    const cache = new TailCache();
    cache.appended("t:0", record(0));
    cache.clear();
    expect(cache.read("t:0", 0, 1)).toBeUndefined();
    expect(cache.heldBytes()).toBe(0);
  });
});
