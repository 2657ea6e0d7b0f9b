import { describe, expect, test } from "bun:test";
import { binColumn, binTrainingSet, MISSING_BIN } from "../../../ml/tree/binning.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
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

describe("binning a column", () => {
  /** The definition: the first bin whose upper bound is >= v. */
  const definition = (bounds: Float64Array, v: number) =>
    Number.isNaN(v) ? MISSING_BIN : bounds.findIndex((bound) => v <= bound);
  const random = new SeededRandom(5);
  const columns: Array<[string, () => number]> = [
    ["uniform values", () => random.next()],
    ["heavy-tailed values whose cut points crowd near zero", () => Math.exp(12 * random.next()) - 1],
    ["few distinct values with ties", () => random.nextInt(7) * 0.5],
    ["values with missing ones", () => (random.next() < 0.2 ? Number.NaN : random.nextGaussian())],
    ["huge and tiny magnitudes", () => (random.next() < 0.5 ? -1e300 : 1e-300) * random.next()],
    ["a constant", () => 3],
  ];
  for (const [what, draw] of columns) {
    test(`puts every value in the bin its cut points define: ${what}`, () => {
      const values = Float64Array.from({ length: 5_000 }, draw);
      const set = packTrainingSet({
        rows: Array.from(values, (v) => [v]),
        labels: new Float64Array(values.length),
      });
      const bounds = binTrainingSet(set, 255).upperBounds[0]!;
      // The cut points themselves and their neighbours are where rounding could misplace a value.
      const probes = Float64Array.from([
        ...values,
        ...Array.from(bounds).flatMap((b) => [b, b * (1 + 1e-15), b - Math.abs(b) * 1e-15]),
      ]).filter((v) => v !== Number.POSITIVE_INFINITY && v !== Number.NEGATIVE_INFINITY);
      const out = new Uint8Array(probes.length);
      binColumn(bounds, probes, out);
      for (let i = 0; i < probes.length; i++) expect(out[i]).toBe(definition(bounds, probes[i]!));
    });
  }
});
