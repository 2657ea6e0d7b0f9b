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
