import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { ModelRegistry, ModelVersion } from "../registry/model-registry.ts";
import type { TrackingStore } from "../tracking/tracking-store.ts";
import { TreeEnsemble } from "../tree/tree-ensemble.ts";
import type { FeatureReference } from "./training-set-source.ts";

/**
 * The files a training run leaves (its artifacts), and how a served version is loaded back from
 * them: `model/model.json` (the serialised ensemble), `feature_importance.json`,
 * `reference.json` (a sample of each feature's training values), `feature_statistics.json` (per
 * model feature, the statistics of the feature view version it was read from: its drift
 * reference; features without one are compared with the sample) and `training_set.json` (the
 * lineage). A version's `source` is `runs:/<run>/model`, MLflow's
 * own form, so the MLflow UI links the version to its run.
 */
export const MODEL_FILE = "model/model.json";
export const IMPORTANCE_FILE = "feature_importance.json";
export const REFERENCE_FILE = "reference.json";
export const TRAINING_SET_FILE = "training_set.json";
export const FEATURE_STATISTICS_FILE = "feature_statistics.json";

export interface LoadedModel {
  readonly name: string;
  readonly version: string;
  readonly runId: string;
  readonly ensemble: TreeEnsemble;
  readonly featureNames: readonly string[];
  /** per feature, a sample of training values */
  readonly reference: Readonly<Record<string, readonly number[]>>;
  /** per feature, the view version statistics it is monitored against (empty for a run without them) */
  readonly statistics: Readonly<Record<string, FeatureReference>>;
  readonly tags: Readonly<Record<string, string>>;
}

export function modelSource(runId: string): string {
  return `runs:/${runId}/model`;
}

export async function loadModelVersion(
  tracking: TrackingStore,
  registry: ModelRegistry,
  name: string,
  version: string,
): Promise<LoadedModel> {
  const entry: ModelVersion = await registry.getVersion(name, version);
  const decoder = new TextDecoder();
  let ensemble: TreeEnsemble;
  let reference: Record<string, number[]>;
  let statistics: Record<string, FeatureReference>;
  try {
    ensemble = TreeEnsemble.fromJSON(
      JSON.parse(decoder.decode(await tracking.readArtifact(entry.runId, MODEL_FILE))),
    );
    reference = JSON.parse(decoder.decode(await tracking.readArtifact(entry.runId, REFERENCE_FILE)));
    statistics = await readStatistics(tracking, entry.runId);
  } catch (error) {
    throw new PlatformError(
      ErrorCodes.MODEL_NOT_FOUND,
      `model ${name} version ${version}: its run's model files could not be read`,
      {
        cause: error,
      },
    );
  }
  return {
    name,
    version,
    runId: entry.runId,
    ensemble,
    featureNames: ensemble.toJSON().featureNames,
    reference,
    statistics,
    tags: entry.tags,
  };
}

/** a run from before the statistics were kept has none: its features fall back to the sample */
async function readStatistics(
  tracking: TrackingStore,
  runId: string,
): Promise<Record<string, FeatureReference>> {
  try {
    return JSON.parse(new TextDecoder().decode(await tracking.readArtifact(runId, FEATURE_STATISTICS_FILE)));
  } catch (error) {
    if (isPlatformError(error, ErrorCodes.TRACKING_NOT_FOUND)) return {};
    throw error;
  }
}
