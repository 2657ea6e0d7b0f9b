import { expect, test } from "bun:test";
import { jensenShannonDistance } from "../../../ml/drift/distribution-distance.ts";
import { kolmogorovSf } from "../../../ml/drift/kolmogorov-distribution.ts";
import { ksTwoSample, roundHalfToEven } from "../../../ml/drift/ks-test.ts";
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

/**
 * Small samples, where n1 n2 / (n1 + n2) ends in .5 (numpy rounds to even) or rounds to 0.
 * scipy 1.17.1, computed once:
 *   from scipy.stats import ks_2samp
 *   r = ks_2samp(a, b, method="asymp"); print(float(r.statistic), float(r.pvalue))
 * with a and b as in the table (i/k below is Python's i/k over range(n)). null: scipy gives NaN.
 */
const range = (n: number, k: number, shift = 0) => Array.from({ length: n }, (_, i) => i / k + shift);
const smallSampleGolden: Array<[string, number[], number[], number, number | null]> = [
  ["one observation each, equal (en 0.5 rounds to 0)", [1], [1], 0, null],
  ["one observation each, apart (en 0.5 rounds to 0)", [0], [1], 1, null],
  ["one against two (en 2/3 rounds to 1)", [0], [1, 2], 1, 0],
  [
    "five against five (en 2.5 rounds to 2)",
    [0.1, 0.2, 0.3, 0.4, 0.5],
    [0.35, 0.45, 0.55, 0.65, 0.75],
    0.6000000000000001,
    0.31999999999999984,
  ],
  [
    "nine against nine (en 4.5 rounds to 4)",
    range(9, 10),
    range(9, 10, 0.45),
    0.5555555555555556,
    0.11071101966163692,
  ],
  [
    "thirteen against thirteen (en 6.5 rounds to 6)",
    range(13, 13),
    range(13, 13, 0.3),
    0.3076923076923077,
    0.522626172320338,
  ],
  [
    "five against forty-five (en 4.5 rounds to 4)",
    [0.9, 1.1, 1.3, 1.5, 1.7],
    range(45, 30),
    0.6,
    0.06740000000000002,
  ],
  [
    "seven against seven (en 3.5 rounds to 4)",
    range(7, 7),
    range(7, 7, 0.5),
    0.5714285714285714,
    0.09350270720533115,
  ],
];
for (const [name, a, b, statistic, pValue] of smallSampleGolden) {
  test(`two-sample KS matches scipy ks_2samp(method="asymp") for ${name}`, () => {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const result = ksTwoSample(x, y);
      expect(result.statistic).toBeCloseTo(statistic, 12);
      if (pValue === null) expect(result.pValue).toBeNaN();
      else expect(Math.abs(result.pValue - pValue)).toBeLessThanOrEqual(1e-12 + 1e-9 * pValue);
    }
  });
}

test("a half rounds to the even integer, as numpy.round does", () => {
  const cases: Array<[number, number]> = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [4.5, 4],
    [6.5, 6],
    [2.4999999999999996, 2],
    [2.6, 3],
    [7, 7],
  ];
  for (const [x, rounded] of cases) expect(roundHalfToEven(x)).toBe(rounded);
});

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
