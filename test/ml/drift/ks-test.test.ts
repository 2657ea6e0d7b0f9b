import { expect, test } from "bun:test";
import { jensenShannonDistance } from "../../../ml/drift/distribution-distance.ts";
import { kolmogorovSf } from "../../../ml/drift/kolmogorov-distribution.ts";
import { ksTwoSample } from "../../../ml/drift/ks-test.ts";
import { JS_GOLDEN, KS_GOLDEN, sequence } from "./scipy-golden.ts";

for (const golden of KS_GOLDEN) {
  test(`two-sample KS matches scipy ks_2samp(method="asymp") for ${golden.name}`, () => {
    const a = Array.isArray(golden.a) ? golden.a : sequence(golden.a);
    const b = Array.isArray(golden.b) ? golden.b : sequence(golden.b);
    const result = ksTwoSample(a, b);
    expect(result.statistic).toBeCloseTo(golden.statistic, 12);
    expect(Math.abs(result.pValue - golden.pValue)).toBeLessThanOrEqual(1e-9 + 1e-6 * golden.pValue);
  });
}

// scipy.stats.kstwo.sf(x, n), one per branch of the port.
const kolmogorovCases: Array<[string, number, number, number]> = [
  ["n x <= 1/2", 0.004, 100, 1],
  ["Ruben-Gambino n x >= n - 1", 0.98, 50, 2.251799813685348e-85],
  ["x >= 0.5, n = 20", 0.9, 20, 2.0006866455078037e-20],
  ["Durbin matrix", 0.1, 100, 0.2526927570063874],
  ["Smirnov tail", 0.2, 100, 0.0005551927327988775],
  ["x >= 0.5", 0.6, 10, 0.0005681672000000003],
  ["Pelz-Good", 0.01, 20000, 0.03638603905248727],
  ["Smirnov tail at large n", 0.015, 20000, 0.00024427802730063317],
];
for (const [branch, x, n, expected] of kolmogorovCases) {
  test(`the Kolmogorov survival function matches scipy kstwo.sf in the ${branch} branch`, () => {
    expect(Math.abs(kolmogorovSf(x, n) - expected)).toBeLessThanOrEqual(1e-9 * expected);
  });
}

test("NaN values are dropped before testing, as the design's dropna does", () => {
  const clean = ksTwoSample([1, 2, 3, 4, 5], [3, 4, 5, 6, 7, 8]);
  const dirty = ksTwoSample([1, Number.NaN, 2, 3, 4, 5], [3, 4, 5, Number.NaN, 6, 7, 8]);
  expect(dirty).toEqual(clean);
});

test("an empty sample is a SAMPLE_TOO_SMALL error", () => {
  expect(() => ksTwoSample([], [1, 2])).toThrow(/SAMPLE_TOO_SMALL/);
  expect(() => ksTwoSample([1], [Number.NaN])).toThrow(/SAMPLE_TOO_SMALL/);
});

for (const golden of JS_GOLDEN) {
  test(`Jensen-Shannon distance matches scipy for p=${golden.p} q=${golden.q}`, () => {
    expect(jensenShannonDistance(golden.p, golden.q)).toBeCloseTo(golden.distance, 12);
  });
}
