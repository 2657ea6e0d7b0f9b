import { expect, test } from "bun:test";
import { scoreThenLearn } from "../../../ml/anomaly/anomaly-detector.ts";
import { createDetector } from "../../../ml/anomaly/detector-factory.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { anomalyDetectorContract } from "./anomaly-detector.contract.ts";

const config = {
  kind: "half-space-trees",
  featureRanges: [
    [0, 100],
    [0, 120],
  ],
  windowSize: 250,
};

anomalyDetectorContract("half-space trees", {
  make: () => createDetector(config),
  warmUp: 250,
  normal: (i, random) => [
    40 + 10 * Math.sin(i / 50) + 3 * random.nextGaussian(),
    60 + 3 * random.nextGaussian(),
  ],
  spike: (i, random) => [40 + 10 * Math.sin(i / 50) + 3 * random.nextGaussian(), 110],
  wrongShape: 5,
  nan: [1, Number.NaN],
});

test("a point in a region never seen scores higher than one in the dense region", () => {
  const detector = createDetector({ kind: "half-space-trees", featureRanges: [[0, 1]], windowSize: 100 });
  const random = new SeededRandom(2);
  for (let i = 0; i < 500; i++) scoreThenLearn(detector, 0.2 + 0.05 * random.nextGaussian());
  expect(detector.score(0.9)).toBeGreaterThan(0.9);
  expect(detector.score(0.2)).toBeLessThan(0.1);
});

test("the same seed builds the same trees: two detectors score a stream identically", () => {
  const a = createDetector({ ...config, seed: 5 });
  const b = createDetector({ ...config, seed: 5 });
  const random = new SeededRandom(3);
  for (let i = 0; i < 600; i++) {
    const x = [random.next() * 100, random.next() * 120];
    expect(scoreThenLearn(b, x)).toBe(scoreThenLearn(a, x));
  }
});
