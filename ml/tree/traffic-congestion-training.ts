import { type GradientBoostingParams, trainGradientBoosting } from "./gradient-boosting.ts";
import { evaluateRegression, type RegressionMetrics, splitHoldout } from "./regression-metrics.ts";
import { TRAFFIC_FEATURE_NAMES, type TrafficFeatureName } from "./traffic-congestion.ts";
import { generateTrafficHistory } from "./traffic-history.ts";
import type { TreeEnsemble } from "./tree-ensemble.ts";

export interface TrafficCongestionModel {
  readonly model: TreeEnsemble;
  readonly version: string;
  /** On a 20% holdout of the simulated history. */
  readonly metrics: RegressionMetrics;
  readonly featureNames: readonly TrafficFeatureName[];
  /** Up to `referenceSize` training values per feature, the drift monitor's reference. */
  readonly reference: Record<TrafficFeatureName, Float64Array>;
  readonly trainingMillis: number;
}

export interface TrafficTrainingOptions {
  readonly rows?: number;
  readonly seed?: number;
  readonly referenceSize?: number;
  readonly params?: GradientBoostingParams;
  readonly trainedAt?: Date;
}

/** Default learner: 150 boosted trees of depth 6; ~0.2 s on 5,000 rows on the 2-core dev box. */
export const TRAFFIC_MODEL_PARAMS: GradientBoostingParams = {
  nTrees: 150,
  learningRate: 0.1,
  maxDepth: 6,
  minSamplesLeaf: 5,
  subsample: 0.8,
  l2: 1,
  maxBins: 64,
};

/**
 * Trains a congestion model on simulated history (see traffic-history.ts). No node serves it any
 * more (the platform's models train on the feature store's point-in-time sets, ml/lifecycle/): it
 * is a fixed, seeded learning problem for the tree benchmarks and the trees' own tests.
 */
export function trainTrafficCongestionModel(options: TrafficTrainingOptions = {}): TrafficCongestionModel {
  const started = performance.now();
  const seed = options.seed ?? 42;
  const history = generateTrafficHistory(options.rows ?? 5_000, seed);
  const { train, holdout } = splitHoldout(
    { rows: history.features, labels: history.labels, featureNames: TRAFFIC_FEATURE_NAMES },
    0.2,
    seed,
  );
  const model = trainGradientBoosting(
    train,
    { ...TRAFFIC_MODEL_PARAMS, seed, ...options.params },
    options.trainedAt,
  );
  const metrics = evaluateRegression(holdout.labels, model.predictBatch(holdout.rows));
  const referenceSize = Math.min(options.referenceSize ?? 2_000, train.rows.length);
  const reference = {} as Record<TrafficFeatureName, Float64Array>;
  TRAFFIC_FEATURE_NAMES.forEach((name, j) => {
    reference[name] = Float64Array.from({ length: referenceSize }, (_, i) => train.rows[i]![j]!);
  });
  return {
    model,
    version: model.version,
    metrics,
    featureNames: TRAFFIC_FEATURE_NAMES,
    reference,
    trainingMillis: performance.now() - started,
  };
}
