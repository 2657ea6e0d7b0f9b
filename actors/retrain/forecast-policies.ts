import { MARKET_DIRECTION } from "../../ml/market/direction-features.ts";
import { DEFAULT_RETRAIN_POLICY, type RetrainPolicy } from "./retrain-policy.ts";

/**
 * The retraining policies of the node's own models. The traffic and utility forecasts are
 * gradient-boosted regressions on the default policy (the node's schedule added); the market
 * direction is a log-loss classifier judged on log loss.
 */
export function forecastPolicy(experiment: string, nTrees: number, retrainEveryMs: number): RetrainPolicy {
  return {
    ...DEFAULT_RETRAIN_POLICY,
    experiment,
    learner: {
      kind: "gradient-boosting",
      params: { nTrees, maxDepth: 6, maxBins: 64, learningRate: 0.1, subsample: 0.8 },
    },
    triggers: {
      ...DEFAULT_RETRAIN_POLICY.triggers,
      ...(retrainEveryMs > 0 ? { everyMs: retrainEveryMs } : {}),
    },
  };
}

export const MARKET_DIRECTION_POLICY: RetrainPolicy = {
  ...DEFAULT_RETRAIN_POLICY,
  experiment: MARKET_DIRECTION,
  learner: {
    kind: "gradient-boosting",
    params: {
      loss: "log-loss",
      nTrees: 100,
      maxDepth: 4,
      learningRate: 0.05,
      minSamplesLeaf: 40,
      maxBins: 64,
      subsample: 0.8,
    },
  },
  // a challenger is judged on log loss, a proper score for probabilities (see PairedComparison)
  comparison: { ...DEFAULT_RETRAIN_POLICY.comparison, score: "log-loss" },
  triggers: {
    ...DEFAULT_RETRAIN_POLICY.triggers,
    // a direction forecast's absolute error is |p - y|, about 0.5 for a coin: a drop shows early
    performanceRatio: 1.15,
    postChangeLabels: 300,
  },
};
