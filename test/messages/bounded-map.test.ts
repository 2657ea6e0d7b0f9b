import { describe, expect, test } from "bun:test";
import { BoundedMap, BoundedSet } from "../../messages/bounded-map.ts";

/**
 * Operations as text, applied in order: `set k`, `newest k` (setNewest), `touch k`, `delete k`.
 * The value written is the operation's index, so a test sees which write a key holds.
 */
function apply(map: BoundedMap<string, number>, operations: readonly string[]): void {
  operations.forEach((operation, index) => {
    const [verb, key] = operation.split(" ") as [string, string];
    if (verb === "set") map.set(key, index);
    else if (verb === "newest") map.setNewest(key, index);
    else if (verb === "touch") map.touch(key);
    else if (verb === "delete") map.delete(key);
    else throw new Error(`unknown operation ${operation}`);
  });
}

describe("the bounded map", () => {
  // [case, capacity, operations, keys held oldest first, evictions]
  test.each([
    ["empty", 3, [], [], 0],
    ["one key", 3, ["set a"], ["a"], 0],
    ["at the bound", 3, ["set a", "set b", "set c"], ["a", "b", "c"], 0],
    ["one past the bound forgets the oldest", 3, ["set a", "set b", "set c", "set d"], ["b", "c", "d"], 1],
    ["far past the bound keeps the newest", 2, ["set a", "set b", "set c", "set d", "set e"], ["d", "e"], 3],
    ["a capacity of one holds the last key", 1, ["set a", "set b"], ["b"], 1],
    // a deduplication window: a repeat does not renew its age
    [
      "set of a held key keeps its place",
      3,
      ["set a", "set b", "set a", "set c", "set d"],
      ["b", "c", "d"],
      1,
    ],
    ["set of the same key never evicts", 1, ["set a", "set a", "set a"], ["a"], 0],
    // least recently used: a write or a use renews
    [
      "setNewest of a held key renews it",
      3,
      ["set a", "set b", "newest a", "set c", "set d"],
      ["a", "c", "d"],
      1,
    ],
    ["touch of a held key renews it", 3, ["set a", "set b", "touch a", "set c", "set d"], ["a", "c", "d"], 1],
    ["touch of an absent key adds nothing", 2, ["touch a", "set b"], ["b"], 0],
    ["touch of the newest key changes nothing", 2, ["set a", "set b", "touch b", "set c"], ["b", "c"], 1],
    [
      "delete frees a place: nothing is evicted",
      3,
      ["set a", "set b", "set c", "delete b", "set d"],
      ["a", "c", "d"],
      0,
    ],
    [
      "delete of the oldest makes the next the oldest",
      2,
      ["set a", "set b", "delete a", "set c", "set d"],
      ["c", "d"],
      1,
    ],
    ["delete of the newest, then more", 2, ["set a", "set b", "delete b", "set c", "set d"], ["c", "d"], 1],
    ["delete of an absent key changes nothing", 2, ["set a", "delete z", "set b"], ["a", "b"], 0],
    ["delete of every key empties it", 2, ["set a", "set b", "delete a", "delete b"], [], 0],
    [
      "a deleted key comes back as the newest",
      3,
      ["set a", "set b", "delete a", "set a", "set c", "set d"],
      ["a", "c", "d"],
      1,
    ],
  ] as [string, number, string[], string[], number][])(
    "%s",
    (_case, capacity, operations, held, evictions) => {
      const map = new BoundedMap<string, number>(capacity);
      apply(map, operations);
      expect([...map.keys()]).toEqual(held);
      expect(map.size).toBe(held.length);
      expect(map.evictions).toBe(evictions);
      expect(map.oldestKey()).toBe(held[0]);
      for (const key of held) expect(map.has(key)).toBe(true);
      for (const [key, value] of map.entries()) expect(map.get(key)).toBe(value);
    },
  );

  test("set of a held key writes its value without moving it; setNewest writes and moves it", () => {
    const map = new BoundedMap<string, number>(3).set("a", 1).set("b", 2);
    map.set("a", 10);
    expect([...map.entries()]).toEqual([
      ["a", 10],
      ["b", 2],
    ]);
    map.setNewest("a", 11);
    expect([...map]).toEqual([
      ["b", 2],
      ["a", 11],
    ]);
    expect(map.touch("b")).toBe(2);
    expect([...map.values()]).toEqual([11, 2]);
  });

  test("each entry it forgets is handed to onEvict, oldest first", () => {
    const forgotten: [string, number][] = [];
    const map = new BoundedMap<string, number>(2, (key, value) => forgotten.push([key, value]));
    for (const [index, key] of ["a", "b", "c", "d"].entries()) map.set(key, index);
    expect(forgotten).toEqual([
      ["a", 0],
      ["b", 1],
    ]);
  });

  test("clear empties it and it fills again", () => {
    const map = new BoundedMap<string, number>(2).set("a", 1).set("b", 2);
    map.clear();
    expect(map.size).toBe(0);
    expect([...map.keys()]).toEqual([]);
    map.set("c", 3).set("d", 4).set("e", 5);
    expect([...map.keys()]).toEqual(["d", "e"]);
  });

  test.each([0, -1, 1.5, Number.NaN])("a capacity of %p is refused", (capacity) => {
    expect(() => new BoundedMap(capacity)).toThrow(RangeError);
  });

  // the same operations on a Map bounded the old way (delete + set to renew, first entry evicted)
  // give the same order: the structure keeps its users' semantics
  test("random operations agree with a Map bounded by deleting its first entry", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const capacity = 50;
    const bounded = new BoundedMap<number, number>(capacity);
    const reference = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      const key = random(200);
      const verb = random(4);
      if (verb === 0) {
        bounded.set(key, step);
        if (reference.has(key)) reference.set(key, step);
        else {
          reference.set(key, step);
          if (reference.size > capacity) reference.delete(reference.keys().next().value as number);
        }
      } else if (verb === 1) {
        bounded.setNewest(key, step);
        reference.delete(key);
        reference.set(key, step);
        if (reference.size > capacity) reference.delete(reference.keys().next().value as number);
      } else if (verb === 2) {
        const value = reference.get(key);
        expect(bounded.touch(key)).toBe(value);
        if (value !== undefined) {
          reference.delete(key);
          reference.set(key, value);
        }
      } else {
        expect(bounded.delete(key)).toBe(reference.delete(key));
      }
    }
    expect([...bounded.entries()]).toEqual([...reference.entries()]);
  });

  // Regression: a Map bounded by deleting `keys().next()` walks past every entry it deleted
  // before, so each add past the bound cost more than the last (a window of 200,000 ids: 300,000
  // adds took 11.9 s). 500,000 adds past it would take the old pattern ~35 s; the timeout leaves
  // this one about 20x its time on a quiet machine.
  test("500,000 keys through a full map of 200,000 renewing as they go: each forgets the oldest without walking past the forgotten", () => {
    const map = new BoundedMap<string, number>(200_000);
    for (let k = 0; k < 700_000; k++) {
      map.setNewest(`3@${k}`, k);
      if (k % 2 === 0) map.touch(`3@${k - 100_000}`);
    }
    expect(map.size).toBe(200_000);
    expect(map.evictions).toBe(500_000);
    expect(map.has("3@499999")).toBe(false);
    expect(map.has("3@699999")).toBe(true);
  }, 15_000);
});

describe("the bounded set", () => {
  // [ids added in order, capacity, ids it still holds, oldest first, ids it forgot]
  test.each([
    [[], 3, [], []],
    [["a"], 3, ["a"], []],
    [["a", "b", "c"], 3, ["a", "b", "c"], []],
    [["a", "b", "c", "d"], 3, ["b", "c", "d"], ["a"]],
    [["a", "b", "c", "d", "e", "f", "g"], 3, ["e", "f", "g"], ["a", "b", "c", "d"]],
    // an id it holds is not added again, so it keeps its place and the window its size
    [["a", "b", "a", "c", "d"], 3, ["b", "c", "d"], ["a"]],
    [["a", "a", "a"], 1, ["a"], []],
    [["a", "b"], 1, ["b"], ["a"]],
  ] as [string[], number, string[], string[]][])(
    "%p through a window of %p holds %p and forgets %p",
    (ids, capacity, held, forgotten) => {
      const recent = new BoundedSet<string>(capacity);
      for (const id of ids) recent.add(id);
      expect(recent.size).toBe(held.length);
      expect([...recent.keys()]).toEqual(held);
      for (const id of forgotten) expect(recent.has(id)).toBe(false);
      expect(recent.evictions).toBe(forgotten.length);
    },
  );

  test("delete frees a place", () => {
    const recent = new BoundedSet<string>(2).add("a").add("b");
    expect(recent.delete("a")).toBe(true);
    recent.add("c");
    expect([...recent.keys()]).toEqual(["b", "c"]);
    expect(recent.evictions).toBe(0);
  });

  // Regression (the lake's silver sink): a Set that forgets its first entry on every add walks
  // past the forgotten ones each time (300,000 adds past a full window of 200,000: 11.9 s).
  test("500,000 ids through a full window of 200,000: each forgets the oldest without walking past the forgotten", () => {
    const recent = new BoundedSet<string>(200_000);
    for (let k = 0; k < 700_000; k++) recent.add(`3@${k}`);
    expect(recent.size).toBe(200_000);
    expect(recent.has("3@499999")).toBe(false);
    expect(recent.has("3@500000")).toBe(true);
    expect(recent.has("3@699999")).toBe(true);
  }, 15_000);
});
