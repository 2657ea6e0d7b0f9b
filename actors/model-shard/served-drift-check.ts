import type { DriftReport } from "../../messages/drift-report.ts";
import { FeatureWindow } from "../../ml/drift/feature-window.ts";
import type { LoadedModel } from "../../ml/lifecycle/model-artifacts.ts";
import { CLOCK_FEATURES } from "../../ml/monitoring/feature-drift.ts";
import type { DriftCheck } from "../drift/drift-monitor.ts";
import { featureDrift } from "./model-serving.ts";

/**
 * The drift monitor's check for a registered model (drift/<model>, one owner per application):
 * a bounded recent sample of each feature the predictions carried, compared at each evaluation
 * with the reference of the version serving the model now (the statistics of the feature view
 * version it was trained on, or its training sample: `featureDrift`). Looked up at evaluation,
 * not fixed at creation: after a promotion the monitor compares with the new champion's
 * reference. Nothing is reported while this node serves no version of the model.
 */
export interface ServedDriftOptions {
  readonly sampleSize: number;
  readonly minSampleSize: number;
  /** a saved sample (from the drift changelog): `{ samples: { feature: values } }` */
  readonly restored?: unknown;
}

export function servedDriftCheck(
  model: string,
  servingVersion: (model: string) => LoadedModel | undefined,
  options: ServedDriftOptions,
): DriftCheck {
  const windows = new Map<string, FeatureWindow>();
  const push = (name: string, value: number) => {
    let window = windows.get(name);
    if (!window) {
      // a prediction names at most its model's features; a flood of made-up names stops here
      if (windows.size >= MAX_FEATURES) return;
      window = new FeatureWindow(options.sampleSize);
      windows.set(name, window);
    }
    window.push(value);
  };
  const saved = options.restored as { samples?: Record<string, unknown> } | undefined;
  for (const [name, values] of Object.entries(saved?.samples ?? {}))
    if (Array.isArray(values)) for (const value of values) if (typeof value === "number") push(name, value);
  return {
    snapshot: () => ({
      samples: Object.fromEntries([...windows].map(([name, window]) => [name, [...window.values()]])),
    }),
    observe(features) {
      for (const [name, value] of Object.entries(features)) push(name, value);
    },
    ready: () => [...windows.values()].some((w) => w.size >= options.minSampleSize),
    evaluate(at): DriftReport[] {
      const loaded = servingVersion(model);
      if (!loaded) return [];
      const reports: DriftReport[] = [];
      for (const name of loaded.featureNames) {
        if (CLOCK_FEATURES.has(name)) continue;
        const recent = windows.get(name)?.values();
        if (!recent || recent.length < options.minSampleSize) continue;
        const drift = featureDrift(loaded, name, recent, options.minSampleSize);
        if (!drift) continue;
        reports.push({
          model,
          model_version: loaded.version,
          feature: name,
          ks_statistic: drift.ks,
          p_value: drift.pValue,
          psi: drift.psi,
          score: Math.min(1, Math.max(drift.ks, drift.js)),
          drift_detected: drift.drifted,
          sample_size: drift.sampleSize,
          at,
        });
      }
      return reports;
    },
  };
}

const MAX_FEATURES = 256;
