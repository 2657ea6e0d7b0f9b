import { describe, expect, test } from "bun:test";
import { KeyDictionary } from "../../../stream/window/key-dictionary.ts";

/** Dense ids in first-seen order, the first key kept without a map (one per sensor actor). */
describe("key dictionary", () => {
  const cases: { name: string; keys: string[]; ids: number[]; distinct: string[] }[] = [
    { name: "no key", keys: [], ids: [], distinct: [] },
    { name: "one key, seen again", keys: ["a", "a", "a"], ids: [0, 0, 0], distinct: ["a"] },
    { name: "the empty string as the first key", keys: ["", "b", ""], ids: [0, 1, 0], distinct: ["", "b"] },
    {
      name: "many keys, the first seen again after the others",
      keys: ["a", "b", "c", "b", "a", "d", "c"],
      ids: [0, 1, 2, 1, 0, 3, 2],
      distinct: ["a", "b", "c", "d"],
    },
  ];
  for (const { name, keys, ids, distinct } of cases)
    test(`interns ${name} to ids in first-seen order, and back`, () => {
      const dictionary = new KeyDictionary();
      expect(dictionary.idOf("a")).toBeUndefined();
      expect(keys.map((key) => dictionary.intern(key))).toEqual(ids);
      expect(dictionary.size).toBe(distinct.length);
      expect(distinct.map((key) => dictionary.idOf(key))).toEqual(distinct.map((_, id) => id));
      expect(distinct.map((_, id) => dictionary.keyOf(id))).toEqual(distinct);
      expect(dictionary.idOf("never seen")).toBeUndefined();
    });

  test("a key equal to the first but built apart (another string object) gets the first id", () => {
    const dictionary = new KeyDictionary();
    dictionary.intern(["sensor", "1"].join("-"));
    dictionary.intern("other");
    expect(dictionary.intern(`sensor-${1}`)).toBe(0);
    expect(dictionary.idOf(`sensor-${1}`)).toBe(0);
  });
});
