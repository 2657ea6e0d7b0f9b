import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { evaluateRegression, splitHoldout } from "../../../ml/tree/regression-metrics.ts";
import type { TrainingSet } from "../../../ml/tree/training-set.ts";
import { TreeEnsemble } from "../../../ml/tree/tree-ensemble.ts";

/** Any tree learner: a training set and a seed in, a model out. */
export type TreeLearner = (set: TrainingSet, seed: number, trainedAt?: Date) => TreeEnsemble;

/** A known nonlinear function with a step, an interaction and a sine, plus a little noise. */
export function knownFunctionSet(rowCount: number, seed: number, noise = 0.05): TrainingSet {
  const random = new SeededRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < rowCount; i++) {
    const x = [random.next(), random.next(), random.next(), random.next()];
    rows.push(x);
    labels.push(
      (x[0]! > 0.5 ? 2 : 0) +
        Math.sin(4 * x[1]!) +
        (x[2]! > 0.3 && x[3]! < 0.6 ? 1 : 0) +
        noise * random.nextGaussian(),
    );
  }
  return { rows, labels, featureNames: ["step", "wave", "a", "b"] };
}

/** The conformance suite every tree learner passes. */
export function treeLearnerContract(name: string, learn: TreeLearner): void {
  describe(`${name} (tree learner contract)`, () => {
    const { train, holdout } = splitHoldout(knownFunctionSet(2_000, 1), 0.25, 2);

    test("learns a known step and sine function with R2 above 0.9 on a holdout", () => {
      const model = learn(train, 7);
      const metrics = evaluateRegression(holdout.labels, model.predictBatch(holdout.rows));
      expect(metrics.r2).toBeGreaterThan(0.9);
    });

    test("beats a predictor of the training mean by a wide margin", () => {
      const model = learn(train, 7);
      let mean = 0;
      for (let i = 0; i < train.labels.length; i++) mean += train.labels[i]!;
      mean /= train.labels.length;
      const meanRmse = evaluateRegression(
        holdout.labels,
        new Float64Array(holdout.labels.length).fill(mean),
      ).rmse;
      const modelRmse = evaluateRegression(holdout.labels, model.predictBatch(holdout.rows)).rmse;
      expect(modelRmse).toBeLessThan(meanRmse / 3);
    });

    test("is deterministic given a seed: same trees, same version for the same training time", () => {
      const at = new Date("2026-01-01T00:00:00Z");
      const first = learn(train, 11, at);
      const second = learn(train, 11, at);
      expect(second.version).toBe(first.version);
      expect(second.predictBatch(holdout.rows)).toEqual(first.predictBatch(holdout.rows));
    });

    test("gives identical predictions after a JSON round trip", () => {
      const model = learn(train, 3);
      const restored = TreeEnsemble.fromJSON(JSON.stringify(model.toJSON()));
      expect(restored.version).toBe(model.version);
      expect(restored.predictBatch(holdout.rows)).toEqual(model.predictBatch(holdout.rows));
    });

    test("ignores a constant feature and never splits on it", () => {
      const rows = train.rows.map((row) => [...Array.from(row), 5]);
      const model = learn({ rows, labels: train.labels }, 5);
      const constant = model.featureImportance().find((f) => f.feature === "f4");
      expect(constant?.gain).toBe(0);
      expect(Number.isFinite(model.predict([0.7, 0.2, 0.5, 0.1, 5]))).toBe(true);
    });

    test("learns where missing values go and predicts finite numbers for NaN inputs", () => {
      // Feature 0 missing exactly when the label is high: the learned default direction must use it.
      const random = new SeededRandom(9);
      const rows: number[][] = [];
      const labels: number[] = [];
      for (let i = 0; i < 1_000; i++) {
        const high = random.next() < 0.5;
        rows.push([high ? Number.NaN : random.next(), random.next()]);
        labels.push(high ? 10 : 0);
      }
      const model = learn({ rows, labels }, 1);
      expect(model.predict([Number.NaN, 0.5])).toBeGreaterThan(8);
      expect(model.predict([0.5, 0.5])).toBeLessThan(2);
      expect(Number.isFinite(model.predict([Number.NaN, Number.NaN]))).toBe(true);
    });

    const badSets: Array<[string, TrainingSet]> = [
      ["an empty dataset", { rows: [], labels: [] }],
      ["rows of different lengths", { rows: [[1, 2], [3]], labels: [1, 2] }],
      ["more rows than labels", { rows: [[1], [2]], labels: [1] }],
      ["a NaN label", { rows: [[1], [2]], labels: [1, Number.NaN] }],
      ["an infinite feature", { rows: [[1], [Number.POSITIVE_INFINITY]], labels: [1, 2] }],
    ];
    for (const [what, set] of badSets) {
      test(`refuses ${what} with TRAINING_DATA_INVALID`, () => {
        let caught: unknown;
        try {
          learn(set, 1);
        } catch (error) {
          caught = error;
        }
        expect(isPlatformError(caught, "TRAINING_DATA_INVALID")).toBe(true);
      });
    }

    test("refuses to score a row of the wrong length with FEATURE_MISSING", () => {
      const model = learn(train, 1);
      expect(() => model.predict([1, 2])).toThrow(/FEATURE_MISSING/);
    });
  });
}
