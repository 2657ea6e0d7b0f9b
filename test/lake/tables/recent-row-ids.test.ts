import { describe, expect, test } from "bun:test";
import { RecentRowIds } from "../../../lake/tables/recent-row-ids.ts";

describe("the recent row ids", () => {
  // [ids added in order, capacity, ids it still holds, ids it forgot]
  test.each([
    [["a", "b", "c"], 3, ["a", "b", "c"], []],
    [["a", "b", "c", "d"], 3, ["b", "c", "d"], ["a"]],
    [["a", "b", "c", "d", "e", "f", "g"], 3, ["e", "f", "g"], ["a", "b", "c", "d"]],
    // an id it holds is not added again, so it keeps its place and the window its size
    [["a", "b", "a", "c", "d"], 3, ["b", "c", "d"], ["a"]],
    [["a", "a", "a"], 1, ["a"], []],
    [["a", "b"], 1, ["b"], ["a"]],
  ])("%p through a window of %p holds %p and forgets %p", (ids, capacity, held, forgotten) => {
    const recent = new RecentRowIds(capacity);
    for (const id of ids) recent.add(id);
    expect(recent.size).toBe(held.length);
    for (const id of held) expect(recent.has(id)).toBe(true);
    for (const id of forgotten) expect(recent.has(id)).toBe(false);
  });

  test("a capacity that is not positive is refused", () => {
    expect(() => new RecentRowIds(0)).toThrow(RangeError);
  });

  // Regression: the oldest id was the Set's first entry, and a Set that forgets its first entry
  // on every add walks past the forgotten ones each time, so adds got slower without bound (the
  // 300,000 adds past a full window of 200,000 took 11.9 s, 0.39 s now; a lake sink passes
  // 200,000 rows after ~20 s at 10k/s). 500,000 past it would take the old code ~35 s; the
  // timeout leaves this one 20x its time on a quiet machine.
  test("500,000 ids through a full window of 200,000: each forgets the oldest without walking past the forgotten", () => {
    const recent = new RecentRowIds(200_000);
    for (let k = 0; k < 700_000; k++) recent.add(`3@${k}`);
    expect(recent.size).toBe(200_000);
    expect(recent.has("3@499999")).toBe(false);
    expect(recent.has("3@500000")).toBe(true);
    expect(recent.has("3@699999")).toBe(true);
  }, 15_000);
});
