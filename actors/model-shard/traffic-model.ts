import type { DriftReport } from "../../messages/drift-report.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { DriftDetector } from "../../ml/drift/drift-detector.ts";
import { FeatureWindows } from "../../ml/drift/feature-window.ts";
import { TRAFFIC_FEATURE_NAMES, trafficFeatures } from "../../ml/tree/traffic-congestion.ts";
import { trainTrafficCongestionModel } from "../../ml/tree/traffic-congestion-training.ts";
import { TreeEnsemble } from "../../ml/tree/tree-ensemble.ts";
import type { DriftCheck } from "../drift/drift-monitor.ts";
import type { DeployedModel } from "./model-shard.ts";

/**
 * The traffic-congestion model as the node deploys it: trained at start-up on simulated history
 * (ml/tree), shipped to every worker as JSON, and wrapped as the model shards' DeployedModel.
 * The drift monitor watches the measured features only: the time-of-day features differ from the
 * all-day reference by construction, so testing them would report the clock, not drift.
 */
export const TRAFFIC_MODEL_NAME = "traffic-congestion";
export const DRIFT_FEATURES = ["vehicle_count_mean", "vehicle_count_max", "avg_speed_mean"] as const;

export interface TrainedTrafficModel {
  readonly json: unknown;
  readonly version: string;
  readonly reference: Readonly<Record<string, Float64Array>>;
  readonly metrics: { readonly rmse: number; readonly r2: number };
  readonly trainingMillis: number;
}

export function trainStartupModel(seed: number, rows = 5000): TrainedTrafficModel {
  const trained = trainTrafficCongestionModel({ rows, seed });
  return {
    json: trained.model.toJSON(),
    version: trained.version,
    reference: trained.reference,
    metrics: { rmse: trained.metrics.rmse, r2: trained.metrics.r2 },
    trainingMillis: trained.trainingMillis,
  };
}

export function deployTrafficModel(json: unknown, version: string, utcOffsetMinutes = 0): DeployedModel {
  const ensemble = TreeEnsemble.fromJSON(json);
  return {
    name: TRAFFIC_MODEL_NAME,
    version,
    featureNames: TRAFFIC_FEATURE_NAMES,
    features(window: WindowResult) {
      const count = window.fields.vehicle_count;
      const speed = window.fields.avg_speed;
      if (window.type !== "traffic" || !count || !speed || window.count === 0) return undefined;
      return trafficFeatures(
        {
          sensorId: window.key,
          windowStart: window.window_start,
          readingCount: window.count,
          vehicleCountMean: count.mean,
          vehicleCountMin: count.min,
          vehicleCountMax: count.max,
          avgSpeedMean: speed.mean,
        },
        utcOffsetMinutes,
      );
    },
    predict: (features) => ensemble.predict(features),
  };
}

export function trafficDriftCheck(
  model: TrainedTrafficModel,
  options: { sampleSize: number; minSampleSize: number; restored?: unknown },
): DriftCheck {
  const reference = Object.fromEntries(DRIFT_FEATURES.map((name) => [name, model.reference[name]!]));
  const detector = new DriftDetector(reference, { minSampleSize: options.minSampleSize });
  const recent = new FeatureWindows(DRIFT_FEATURES, options.sampleSize);
  const vector = new Float64Array(DRIFT_FEATURES.length);
  // a restored sample (from the drift changelog) refills the windows, oldest first
  const saved = options.restored as { samples?: Record<string, number[]> } | undefined;
  const restoredRows = Math.min(...DRIFT_FEATURES.map((name) => saved?.samples?.[name]?.length ?? 0));
  for (let row = 0; row < restoredRows; row++) {
    for (let i = 0; i < DRIFT_FEATURES.length; i++) vector[i] = saved!.samples![DRIFT_FEATURES[i]!]![row]!;
    recent.push(vector);
  }
  return {
    snapshot: () => ({
      samples: Object.fromEntries(
        Object.entries(recent.sample()).map(([name, values]) => [name, [...values]]),
      ),
    }),
    observe(features) {
      for (let i = 0; i < DRIFT_FEATURES.length; i++) vector[i] = features[DRIFT_FEATURES[i]!] ?? Number.NaN;
      recent.push(vector);
    },
    ready: () => recent.size >= options.minSampleSize,
    evaluate(at): DriftReport[] {
      const report = detector.detect(recent.sample());
      return Object.entries(report.perFeature).map(([feature, drift]) => ({
        model: TRAFFIC_MODEL_NAME,
        model_version: model.version,
        feature,
        ks_statistic: drift.ks,
        p_value: drift.pValue,
        psi: drift.psi,
        score: Math.min(1, Math.max(drift.ks, drift.js)),
        drift_detected: drift.driftDetected,
        sample_size: drift.sampleSize,
        at,
      }));
    },
  };
}
