import { describe, expect, test } from "bun:test";
import { HeldRecords } from "../../engine/held-records.ts";
import type { LogRecord } from "../../log/log.ts";

const record = (partition: number, offset: number): LogRecord => ({
  topic: "city.sensors.raw",
  partition,
  offset,
  key: `k${partition}`,
  value: null,
  timestamp: 0,
  headers: [],
});
const offsets = (records: readonly LogRecord[]) => records.map((r) => `${r.partition}@${r.offset}`);
const everyPartition = () => true;

describe("held records", () => {
  test("hold only the records of partitions that are restoring", () => {
    const held = new HeldRecords();
    held.start(0);
    expect([held.hold(record(0, 1)), held.hold(record(1, 1)), held.hold(record(0, 2))]).toEqual([
      true,
      false,
      true,
    ]);
    expect(held.size).toBe(2);
  });

  test("a finished restore releases nothing until the loop asks, and keeps holding what arrives meanwhile", () => {
    // regression: a restore finishing mid-dispatch once let newer records overtake the held ones
    const held = new HeldRecords();
    held.start(0);
    held.hold(record(0, 1));
    held.finish(0);
    expect(held.hold(record(0, 2))).toBe(true);
    expect(offsets(held.release(everyPartition))).toEqual(["0@1", "0@2"]);
    expect(held.size).toBe(0);
    expect(held.hold(record(0, 3))).toBe(false);
  });

  test("a partition that moved away is dropped, and not released even if its restore finishes", () => {
    const held = new HeldRecords();
    held.start(0);
    held.start(1);
    held.hold(record(0, 1));
    held.hold(record(1, 1));
    held.drop(0);
    held.finish(0);
    held.finish(1);
    expect(offsets(held.release((partition) => partition !== 0))).toEqual(["1@1"]);
    expect(held.size).toBe(0);
  });
});
