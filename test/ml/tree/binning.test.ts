import { expect, test } from "bun:test";
import { binTrainingSet, MISSING_BIN } from "../../../ml/tree/binning.ts";
import { packTrainingSet } from "../../../ml/tree/training-set.ts";

test("a feature with few distinct values gets one bin per value, cut at midpoints", () => {
  const set = packTrainingSet({ rows: [[1], [2], [2], [4]], labels: [0, 0, 0, 0] });
  const binned = binTrainingSet(set, 255);
  expect(Array.from(binned.upperBounds[0]!)).toEqual([1.5, 3, Number.POSITIVE_INFINITY]);
  expect(Array.from(binned.bins)).toEqual([0, 1, 1, 2]);
});

test("many distinct values are cut into at most maxBins quantile bins of similar size", () => {
  const rows = Array.from({ length: 1_000 }, (_, i) => [i]);
  const binned = binTrainingSet(packTrainingSet({ rows, labels: new Float64Array(1_000) }), 10);
  expect(binned.upperBounds[0]!.length).toBe(10);
  const sizes = new Array(10).fill(0);
  for (const bin of binned.bins) sizes[bin]++;
  expect(sizes.every((size) => size === 100)).toBe(true);
});

test("NaN goes to the missing bin and a constant feature has a single bin", () => {
  const set = packTrainingSet({
    rows: [
      [Number.NaN, 3],
      [1, 3],
      [2, 3],
    ],
    labels: [0, 0, 0],
  });
  const binned = binTrainingSet(set, 255);
  expect(binned.bins[0]).toBe(MISSING_BIN);
  expect(binned.upperBounds[1]!.length).toBe(1);
});
