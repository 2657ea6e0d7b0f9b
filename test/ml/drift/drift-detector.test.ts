import { expect, test } from "bun:test";
import { DriftDetector, MIN_DRIFT_SAMPLE_SIZE } from "../../../ml/drift/drift-detector.ts";
import { FeatureWindow, FeatureWindows } from "../../../ml/drift/feature-window.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

function gaussian(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const random = new SeededRandom(seed);
  return Float64Array.from({ length: n }, () => mean + sd * random.nextGaussian());
}

const reference = { speed: gaussian(2_000, 1, 50, 10), count: gaussian(2_000, 2, 30, 5) };
const detector = new DriftDetector(reference, { alpha: 0.05 });

const cases: Array<[string, Record<string, Float64Array>, boolean, string[]]> = [
  ["the same distribution", { speed: gaussian(500, 11, 50, 10), count: gaussian(500, 12, 30, 5) }, false, []],
  [
    "a shifted mean on one feature",
    { speed: gaussian(500, 13, 56, 10), count: gaussian(500, 14, 30, 5) },
    true,
    ["speed"],
  ],
  [
    "a doubled spread on one feature",
    { speed: gaussian(500, 15, 50, 10), count: gaussian(500, 16, 30, 10) },
    true,
    ["count"],
  ],
  [
    "both features moved",
    { speed: gaussian(500, 17, 30, 10), count: gaussian(500, 18, 40, 5) },
    true,
    ["speed", "count"],
  ],
];
for (const [what, current, drifted, features] of cases) {
  test(`${what}: drift ${drifted ? "detected" : "not detected"} at alpha 0.05 (seeded)`, () => {
    const report = detector.detect(current);
    expect(report.overall).toBe(drifted);
    expect([...report.driftedFeatures]).toEqual(features);
    expect(report.score).toBeGreaterThanOrEqual(0);
    expect(report.score).toBeLessThanOrEqual(1);
    expect(report.sampleSize).toBe(500);
  });
}

test("the same distribution stays quiet in at least 90 of 100 seeded windows", () => {
  let alarms = 0;
  for (let seed = 100; seed < 200; seed++) {
    const report = detector.detect({
      speed: gaussian(300, seed, 50, 10),
      count: gaussian(300, seed + 1_000, 30, 5),
    });
    if (report.overall) alarms++;
  }
  expect(alarms).toBeLessThanOrEqual(10);
});

test("the score grows with the size of the shift", () => {
  const score = (shift: number) =>
    detector.detect({ speed: gaussian(500, 21, 50 + shift, 10), count: gaussian(500, 22, 30, 5) }).score;
  expect(score(10)).toBeGreaterThan(score(3));
  expect(score(3)).toBeGreaterThan(score(0));
});

test("a missing feature, a small sample and an empty reference are clear errors", () => {
  expect(() => detector.detect({ speed: gaussian(500, 1) })).toThrow(/FEATURE_MISSING/);
  expect(() => detector.detect({ speed: gaussian(10, 1), count: gaussian(10, 2) })).toThrow(
    /SAMPLE_TOO_SMALL/,
  );
  expect(() => new DriftDetector({})).toThrow(/FEATURE_MISSING/);
  expect(() => new DriftDetector({ speed: [1, 2, 3] })).toThrow(/SAMPLE_TOO_SMALL/);
  expect(() => new DriftDetector(reference, { alpha: 2 })).toThrow(/CONFIG_INVALID/);
});

// Regression: minSampleSize 1 was accepted, and one observation outside the reference range gave
// KS p = 0 and PSI far above the threshold: "drift" from a single value.
const tooFewCases: Array<[string, () => unknown]> = [
  ["a minimum sample size of one", () => new DriftDetector(reference, { minSampleSize: 1 })],
  [
    "a minimum sample size just below the floor",
    () => new DriftDetector(reference, { minSampleSize: MIN_DRIFT_SAMPLE_SIZE - 1 }),
  ],
];
for (const [what, build] of tooFewCases) {
  test(`${what} is refused as CONFIG_INVALID`, () => {
    expect(build).toThrow(/CONFIG_INVALID/);
  });
}

test("the detector gives no verdict on fewer observations than its floor, even far out of range", () => {
  const lenient = new DriftDetector(reference, { minSampleSize: MIN_DRIFT_SAMPLE_SIZE });
  for (const n of [1, 2, MIN_DRIFT_SAMPLE_SIZE - 1]) {
    const far = { speed: new Float64Array(n).fill(1e6), count: new Float64Array(n).fill(1e6) };
    expect(() => lenient.detect(far)).toThrow(/SAMPLE_TOO_SMALL/);
  }
  // at the floor a verdict is given, and values far out of range are drift
  const atFloor = new Float64Array(MIN_DRIFT_SAMPLE_SIZE).fill(1e6);
  const report = lenient.detect({ speed: atFloor, count: atFloor });
  expect(report.overall).toBe(true);
  expect(report.sampleSize).toBe(MIN_DRIFT_SAMPLE_SIZE);
  expect(() => new DriftDetector({ speed: [1] }, { minSampleSize: MIN_DRIFT_SAMPLE_SIZE })).toThrow(
    /SAMPLE_TOO_SMALL/,
  );
});

test("a feature window keeps the newest values in order and refuses NaN", () => {
  const window = new FeatureWindow(3);
  for (const v of [1, 2, Number.NaN, 3, 4]) window.push(v);
  expect(Array.from(window.values())).toEqual([2, 3, 4]);
  expect(window.rejected).toBe(1);
  expect(window.size).toBe(3);
  window.clear();
  expect(window.values().length).toBe(0);
});

test("feature windows turn vectors into a per-feature sample for the detector", () => {
  const windows = new FeatureWindows(["speed", "count"], 400);
  const random = new SeededRandom(5);
  for (let i = 0; i < 1_000; i++)
    windows.push([50 + 10 * random.nextGaussian(), 30 + 5 * random.nextGaussian()]);
  expect(windows.size).toBe(400);
  expect(detector.detect(windows.sample()).overall).toBe(false);
  expect(() => windows.push([1])).toThrow(/FEATURE_MISSING/);
});
