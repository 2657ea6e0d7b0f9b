import { expect, test } from "bun:test";
import { scoreThenLearn } from "../../../ml/anomaly/anomaly-detector.ts";
import { createDetector } from "../../../ml/anomaly/detector-factory.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { anomalyDetectorContract } from "./anomaly-detector.contract.ts";

anomalyDetectorContract("robust z-score with EWMA", {
  make: () => createDetector({ kind: "robust-z", windowSize: 120, warmUp: 30 }),
  warmUp: 30,
  normal: (i, random) => 50 + 10 * Math.sin(i / 200) + 3 * random.nextGaussian(),
  spike: (i, random) => 50 + 10 * Math.sin(i / 200) + 30 + 3 * random.nextGaussian(),
  wrongShape: [1, 2],
  nan: Number.NaN,
});

test("after a level shift the alarm fades as the detector adapts", () => {
  const detector = createDetector({ kind: "robust-z", windowSize: 60, warmUp: 20 });
  const random = new SeededRandom(8);
  for (let i = 0; i < 300; i++) scoreThenLearn(detector, 10 + random.nextGaussian());
  const first = scoreThenLearn(detector, 20 + random.nextGaussian());
  for (let i = 0; i < 200; i++) scoreThenLearn(detector, 20 + random.nextGaussian());
  const later = scoreThenLearn(detector, 20 + random.nextGaussian());
  expect(first).toBeGreaterThan(0.9);
  expect(later).toBeLessThan(0.3);
});

test("a constant stream scores a different value 1, unless minSpread sets the resolution", () => {
  const strict = createDetector({ kind: "robust-z", warmUp: 10, windowSize: 20 });
  const tolerant = createDetector({ kind: "robust-z", warmUp: 10, windowSize: 20, minSpread: 1 });
  for (let i = 0; i < 30; i++) {
    strict.update(0);
    tolerant.update(0);
  }
  expect(strict.score(0)).toBeLessThan(0.01);
  expect(strict.score(1)).toBe(1);
  expect(tolerant.score(1)).toBeLessThan(0.1);
  expect(tolerant.score(8)).toBeGreaterThan(0.99);
});

test("a single huge spike does not mask the next one (EWMA learns a clipped value)", () => {
  const detector = createDetector({ kind: "robust-z" });
  const random = new SeededRandom(9);
  for (let i = 0; i < 200; i++) scoreThenLearn(detector, random.nextGaussian());
  expect(scoreThenLearn(detector, 1_000)).toBe(1);
  for (let i = 0; i < 5; i++) scoreThenLearn(detector, random.nextGaussian());
  expect(scoreThenLearn(detector, 6)).toBeGreaterThan(0.9);
});
