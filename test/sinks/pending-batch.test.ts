import { expect, test } from "bun:test";
import { PendingBatch } from "../../sinks/pending-batch.ts";

test("a pending batch keeps each partition's offset range and its rows in log order", () => {
  const batch = new PendingBatch<string>();
  batch.add("a", 0, 5, ["a0-5"], 100);
  batch.add("a", 1, 9, [], 101); // a record without rows (a dead letter) still counts
  batch.add("a", 0, 6, ["a0-6x", "a0-6y"], 102);
  batch.add("b", 0, 1, ["b0-1"], 103);
  expect(batch.records).toBe(4);
  expect(batch.startedAt).toBe(100);
  const taken = batch.take();
  expect(taken.rows).toEqual(["a0-5", "a0-6x", "a0-6y", "b0-1"]);
  expect(taken.offsets).toEqual([
    { topic: "a", partition: 0, firstOffset: 5, lastOffset: 6 },
    { topic: "a", partition: 1, firstOffset: 9, lastOffset: 9 },
    { topic: "b", partition: 0, firstOffset: 1, lastOffset: 1 },
  ]);
  expect(batch.records).toBe(0);
  expect(batch.take()).toEqual({ rows: [], offsets: [] });
});

test("partitions taken away by a rebalance are dropped with their records, the others stay", () => {
  const batch = new PendingBatch<number>();
  batch.add("t", 0, 0, [1], 0);
  batch.add("t", 1, 0, [2], 0);
  batch.add("t", 1, 1, [3], 0);
  expect(batch.drop([{ topic: "t", partition: 1 }])).toBe(2);
  batch.add("t", 1, 7, [4], 0); // a partition given back later starts a new range
  expect(batch.records).toBe(2);
  expect(batch.take()).toEqual({
    rows: [1, 4],
    offsets: [
      { topic: "t", partition: 0, firstOffset: 0, lastOffset: 0 },
      { topic: "t", partition: 1, firstOffset: 7, lastOffset: 7 },
    ],
  });
});
