import { expect, test } from "bun:test";
import { RecentEventTimes } from "../../../stream/quality/recent-event-times.ts";

test("remembers the last capacity times, forgets older ones and round-trips through toArray", () => {
  const memory = new RecentEventTimes(3);
  expect([1, 2, 3].map((t) => memory.seenBefore(t))).toEqual([false, false, false]);
  expect(memory.seenBefore(2)).toBe(true);
  expect(memory.seenBefore(4)).toBe(false);
  expect(memory.toArray()).toEqual([2, 3, 4]);
  expect(memory.seenBefore(1)).toBe(false);
  const copy = RecentEventTimes.from(memory.toArray(), 3);
  expect(copy.toArray()).toEqual(memory.toArray());
  expect(copy.seenBefore(4)).toBe(true);
});
