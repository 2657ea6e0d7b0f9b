/**
 * The ML algorithms' public face: pure TypeScript, no I/O, no actors, no Bun APIs. Actors
 * (model-shard, drift-monitor, sensor) call these.
 */
export {
  type AnomalyDetector,
  type AnomalyInput,
  type DetectorSnapshot,
  scoreThenLearn,
} from "./anomaly/anomaly-detector.ts";
export { createDetector, type DetectorConfig, restoreDetector } from "./anomaly/detector-factory.ts";
export { HalfSpaceTrees, type HalfSpaceTreesConfig } from "./anomaly/half-space-trees.ts";
export { type RobustZConfig, RobustZDetector } from "./anomaly/robust-z-detector.ts";
export {
  binProportions,
  jensenShannonDistance,
  populationStabilityIndex,
  psiOfProportions,
  quantileEdges,
} from "./drift/distribution-distance.ts";
export {
  DriftDetector,
  type DriftOptions,
  type DriftReport,
  type FeatureDrift,
} from "./drift/drift-detector.ts";
export { FeatureWindow, FeatureWindows } from "./drift/feature-window.ts";
export { kolmogorovSf } from "./drift/kolmogorov-distribution.ts";
export { type KsResult, ksTwoSample } from "./drift/ks-test.ts";
export { type GradientBoostingParams, trainGradientBoosting } from "./tree/gradient-boosting.ts";
export { SeededRandom } from "./tree/random.ts";
export { type RandomForestParams, trainRandomForest } from "./tree/random-forest.ts";
export { evaluateRegression, type RegressionMetrics, splitHoldout } from "./tree/regression-metrics.ts";
export {
  congestionIndex,
  FREE_FLOW_SPEED_KMH,
  TRAFFIC_CAPACITY_PER_READING,
  TRAFFIC_FEATURE_NAMES,
  type TrafficFeatureName,
  type TrafficWindow,
  trafficFeatures,
} from "./tree/traffic-congestion.ts";
export {
  TRAFFIC_MODEL_PARAMS,
  type TrafficCongestionModel,
  type TrafficTrainingOptions,
  trainTrafficCongestionModel,
} from "./tree/traffic-congestion-training.ts";
export { generateTrafficHistory, type TrafficHistory, trafficDemand } from "./tree/traffic-history.ts";
export type { TrainingSet } from "./tree/training-set.ts";
export {
  type FeatureImportance,
  type SerialisedTreeEnsemble,
  TreeEnsemble,
  type TreeEnsembleKind,
} from "./tree/tree-ensemble.ts";
