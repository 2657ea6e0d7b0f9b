import { expect, test } from "bun:test";
import { wassersteinDistance } from "../../../ml/drift/wasserstein.ts";

test.each([
  ["scipy's example", [0, 1, 3], [5, 6, 8], 5],
  ["the same sample", [1, 2, 3], [3, 2, 1], 0],
  ["a point mass moved by one", [0, 0, 0], [1, 1, 1], 1],
  ["samples of different sizes", [0, 1], [0, 0, 1, 1], 0],
  ["a shift of the mean by 2.5", [1, 2, 3, 4], [3.5, 4.5, 5.5, 6.5], 2.5],
  ["scipy: [0,10] vs [0,0,0,10]", [0, 10], [0, 0, 0, 10], 2.5],
  ["non-finite values are dropped", [0, Number.NaN, 1], [0, 1, Number.POSITIVE_INFINITY], 0],
] as const)("%s", (_name, u, v, expected) => {
  expect(wassersteinDistance(u, v)).toBeCloseTo(expected, 12);
  expect(wassersteinDistance(v, u)).toBeCloseTo(expected, 12);
});

test("an empty sample is SAMPLE_TOO_SMALL", () => {
  expect(() => wassersteinDistance([], [1])).toThrow("SAMPLE_TOO_SMALL");
});
