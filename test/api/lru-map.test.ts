import { expect, test } from "bun:test";
import { LruMap } from "../../api/lru-map.ts";

test("an LRU map forgets the least recently written key beyond its capacity and counts it", () => {
  const forgotten: string[] = [];
  const map = new LruMap<string, number>(2, (key) => forgotten.push(key));
  map.set("a", 1);
  map.set("b", 2);
  map.set("a", 3); // a is now the most recent
  map.set("c", 4);
  expect(forgotten).toEqual(["b"]);
  expect([...map.values()]).toEqual([3, 4]);
  expect(map.evictions).toBe(1);
  expect(map.size).toBe(2);
});

test.each([0, -1, 1.5, Number.NaN])("an LRU map refuses capacity %p", (capacity) => {
  expect(() => new LruMap(capacity)).toThrow(RangeError);
});

test("a read does not renew a key: only a write does", () => {
  const map = new LruMap<string, number>(2);
  map.set("a", 1);
  map.set("b", 2);
  expect(map.get("a")).toBe(1);
  map.set("c", 3);
  expect(map.has("a")).toBe(false);
  expect([...map.values()]).toEqual([2, 3]);
});

// Regression: the map forgot its least recent key through the Map's first entry, which walks
// past every entry deleted before, so each new key past the capacity cost more than the last
// (the live view's sensors under a flood of new ids; the old code took 50.8 s here, 0.5 s now).
test("500,000 new keys past a full map of 100,000, renewing as they go, each forget the least recent without slowing down", () => {
  const map = new LruMap<string, number>(100_000);
  for (let k = 0; k < 600_000; k++) {
    map.set(`s${k}`, k);
    if (k % 2 === 0) map.set(`s${k - 50_000}`, k);
  }
  expect(map.size).toBe(100_000);
  expect(map.evictions).toBe(525_000);
  expect(map.get("s599999")).toBe(599_999);
}, 15_000);
