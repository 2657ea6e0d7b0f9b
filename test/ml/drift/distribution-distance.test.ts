import { expect, test } from "bun:test";
import {
  binProportions,
  populationStabilityIndex,
  psiOfProportions,
  quantileEdges,
} from "../../../ml/drift/distribution-distance.ts";

const psiCases: Array<[string, number[], number[], number]> = [
  ["identical proportions", [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25], 0],
  [
    "a tilt towards the upper bins",
    [0.25, 0.25, 0.25, 0.25],
    [0.1, 0.2, 0.3, 0.4],
    (0.1 - 0.25) * Math.log(0.1 / 0.25) +
      (0.2 - 0.25) * Math.log(0.2 / 0.25) +
      (0.3 - 0.25) * Math.log(0.3 / 0.25) +
      (0.4 - 0.25) * Math.log(0.4 / 0.25),
  ],
  [
    "an empty current bin, floored at epsilon 1e-4",
    [0.5, 0.5],
    [1, 0],
    (1 - 0.5) * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5),
  ],
];
for (const [what, reference, current, expected] of psiCases) {
  test(`PSI of ${what} is ${expected.toFixed(6)}`, () => {
    expect(psiOfProportions(Float64Array.from(reference), Float64Array.from(current))).toBeCloseTo(
      expected,
      12,
    );
  });
}

test("quantile edges split a uniform reference into equal bins", () => {
  const reference = Float64Array.from({ length: 101 }, (_, i) => i);
  expect(Array.from(quantileEdges(reference, 4))).toEqual([25, 50, 75]);
  expect(Array.from(binProportions(reference, Float64Array.of(25, 50, 75)))).toEqual([
    26 / 101,
    25 / 101,
    25 / 101,
    25 / 101,
  ]);
});

test("a reference with many ties gets fewer, distinct edges", () => {
  const reference = Float64Array.from([1, 1, 1, 1, 1, 1, 1, 2, 3, 4]);
  const edges = quantileEdges(reference, 10);
  expect(new Set(edges).size).toBe(edges.length);
});

test("PSI of a sample against itself is zero and grows with a shift", () => {
  const reference = Float64Array.from({ length: 1_000 }, (_, i) => Math.sin(i) * 10);
  expect(populationStabilityIndex(reference, reference)).toBe(0);
  const small = populationStabilityIndex(
    reference,
    reference.map((v) => v + 1),
  );
  const large = populationStabilityIndex(
    reference,
    reference.map((v) => v + 5),
  );
  expect(small).toBeGreaterThan(0);
  expect(large).toBeGreaterThan(small);
});
