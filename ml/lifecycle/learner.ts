import { type GradientBoostingParams, trainGradientBoosting } from "../tree/gradient-boosting.ts";
import { type RandomForestParams, trainRandomForest } from "../tree/random-forest.ts";
import { evaluateRegression, type RegressionMetrics } from "../tree/regression-metrics.ts";
import type { TrainingSet } from "../tree/training-set.ts";
import type { TreeEnsemble } from "../tree/tree-ensemble.ts";

/** Which learner and with what parameters: plain data, so it crosses to a tuning worker as it is. */
export type LearnerSpec =
  | { readonly kind: "gradient-boosting"; readonly params: GradientBoostingParams }
  | { readonly kind: "random-forest"; readonly params: RandomForestParams };

export function fitLearner(set: TrainingSet, learner: LearnerSpec, trainedAt?: Date): TreeEnsemble {
  return learner.kind === "gradient-boosting"
    ? trainGradientBoosting(set, learner.params, trainedAt)
    : trainRandomForest(set, learner.params, trainedAt);
}

/**
 * A forecast is judged on the future: the holdout is the last `fraction` of the rows in their
 * time order (a random split would let the model see the hour after each holdout row).
 */
export function splitByTime(
  set: TrainingSet,
  fraction: number,
): { train: TrainingSet; holdout: TrainingSet } {
  const n = set.rows.length;
  const holdoutSize = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const cut = n - holdoutSize;
  const part = (from: number, to: number): TrainingSet => ({
    rows: set.rows.slice(from, to),
    labels: Float64Array.from({ length: to - from }, (_, i) => set.labels[from + i]!),
    ...(set.featureNames === undefined ? {} : { featureNames: set.featureNames }),
  });
  return { train: part(0, cut), holdout: part(cut, n) };
}

export function evaluateOn(model: TreeEnsemble, holdout: TrainingSet): RegressionMetrics {
  return evaluateRegression(holdout.labels, model.predictBatch(holdout.rows));
}
