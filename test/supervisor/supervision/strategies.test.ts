import { describe, expect, test } from "bun:test";
import type { SupervisionStrategy } from "../../../supervisor/actor.ts";
import { strategies } from "../../../supervisor/supervision/strategies.ts";

const children = ["a", "b", "c", "d"];

describe("strategies pick the children to restart", () => {
  const cases: [SupervisionStrategy, number, string[]][] = [
    ["one_for_one", 0, ["a"]],
    ["one_for_one", 2, ["c"]],
    ["one_for_all", 0, ["a", "b", "c", "d"]],
    ["one_for_all", 3, ["a", "b", "c", "d"]],
    ["rest_for_one", 0, ["a", "b", "c", "d"]],
    ["rest_for_one", 1, ["b", "c", "d"]],
    ["rest_for_one", 3, ["d"]],
  ];
  test.each(cases)("%s with child %i terminated restarts %p", (strategy, index, expected) => {
    expect([...strategies[strategy](children, index)]).toEqual(expected);
  });
});
