import { expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { trainGradientBoosting } from "../../../ml/tree/gradient-boosting.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { evaluateRegression, splitHoldout } from "../../../ml/tree/regression-metrics.ts";
import { knownFunctionSet, treeLearnerContract } from "./tree-learner.case.ts";

treeLearnerContract("gradient boosting", (set, seed, trainedAt) =>
  trainGradientBoosting(set, { nTrees: 80, maxDepth: 5, learningRate: 0.15, seed }, trainedAt),
);

treeLearnerContract("stochastic gradient boosting with feature sampling", (set, seed, trainedAt) =>
  trainGradientBoosting(
    set,
    { nTrees: 80, maxDepth: 5, learningRate: 0.15, subsample: 0.7, featureFraction: 0.75, maxBins: 32, seed },
    trainedAt,
  ),
);

test("more boosting rounds fit the training data more closely", () => {
  const set = knownFunctionSet(1_000, 4);
  const rmse = (nTrees: number) =>
    evaluateRegression(set.labels, trainGradientBoosting(set, { nTrees, maxDepth: 3 }).predictBatch(set.rows))
      .rmse;
  expect(rmse(60)).toBeLessThan(rmse(10));
});

test("different seeds give different stochastic models", () => {
  const { train, holdout } = splitHoldout(knownFunctionSet(800, 4), 0.25, 1);
  const a = trainGradientBoosting(train, { nTrees: 20, subsample: 0.5, seed: 1 }).predictBatch(holdout.rows);
  const b = trainGradientBoosting(train, { nTrees: 20, subsample: 0.5, seed: 2 }).predictBatch(holdout.rows);
  expect(a).not.toEqual(b);
});

const badParams: Array<[string, Record<string, unknown>]> = [
  ["a learning rate of 0", { learningRate: 0 }],
  ["a fractional tree count", { nTrees: 2.5 }],
  ["more than 255 bins", { maxBins: 1000 }],
  ["a negative L2 penalty", { l2: -1 }],
  ["a subsample above 1", { subsample: 1.5 }],
];
for (const [what, params] of badParams) {
  test(`refuses ${what} with CONFIG_INVALID`, () => {
    let caught: unknown;
    try {
      trainGradientBoosting(knownFunctionSet(50, 1), params);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, "CONFIG_INVALID")).toBe(true);
  });
}

test("trains the same model with the histogram helper thread as without it", () => {
  const { train, holdout } = splitHoldout(knownFunctionSet(3_000, 6), 0.2, 3);
  const at = new Date("2026-01-01T00:00:00Z");
  const params = { nTrees: 30, maxDepth: 5, subsample: 0.8, seed: 4 };
  const alone = trainGradientBoosting(train, params, at, { threads: 1 });
  const helped = trainGradientBoosting(train, params, at, { threads: 2 });
  expect(helped.version).toBe(alone.version);
  expect(helped.predictBatch(holdout.rows)).toEqual(alone.predictBatch(holdout.rows));
});

test("a training set large enough for the histogram helper thread trains the same model twice and learns", () => {
  // 25,000 x 20 = 500,000 values: the threshold from which gradient-boosting.ts starts the helper.
  const base = knownFunctionSet(30_000, 6);
  const random = new SeededRandom(8);
  const rows = base.rows.map((row) => [
    ...Array.from(row),
    ...Array.from({ length: 16 }, () => random.next()),
  ]);
  const { train, holdout } = splitHoldout({ rows, labels: base.labels }, 1 / 6, 3);
  const at = new Date("2026-01-01T00:00:00Z");
  const learn = () =>
    trainGradientBoosting(train, { nTrees: 40, maxDepth: 5, learningRate: 0.2, seed: 4 }, at);
  const first = learn();
  expect(learn().version).toBe(first.version);
  expect(evaluateRegression(holdout.labels, first.predictBatch(holdout.rows)).r2).toBeGreaterThan(0.9);
});
