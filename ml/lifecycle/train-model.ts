import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { ModelRegistry, ModelVersion } from "../registry/model-registry.ts";
import { ensureExperiment, type TrackingStore } from "../tracking/tracking-store.ts";
import { holdoutClassification } from "../tree/classification-metrics.ts";
import type { RegressionMetrics } from "../tree/regression-metrics.ts";
import type { TrainingSet } from "../tree/training-set.ts";
import type { TreeEnsemble } from "../tree/tree-ensemble.ts";
import { evaluateOn, fitLearner, type LearnerSpec, splitByTime } from "./learner.ts";
import {
  FEATURE_STATISTICS_FILE,
  IMPORTANCE_FILE,
  MODEL_FILE,
  modelSource,
  REFERENCE_FILE,
  TRAINING_SET_FILE,
} from "./model-artifacts.ts";
import type { LabelledTrainingSet } from "./training-set-source.ts";

/**
 * One training job: fit the learner on the training part, score the time-ordered holdout, and
 * leave everything a reader needs in the tracking store (parameters, holdout metrics, the model
 * file, feature importance, a reference sample per feature, the statistics of the feature view
 * versions its features were read from (the drift reference), the training set's table, version
 * and feature views), then register the run as a new version of the model. A failure
 * marks the run FAILED and registers nothing.
 */
export interface TrainJob {
  readonly model: string;
  readonly experiment: string;
  readonly set: LabelledTrainingSet;
  readonly learner: LearnerSpec;
  readonly by: string;
  readonly reason: string;
  readonly holdoutFraction?: number;
  /** per-feature reference sample size (the drift monitor's) */
  readonly referenceSize?: number;
  readonly parentRunId?: string;
  readonly extraTags?: Readonly<Record<string, string>>;
  /** how to fit: on this thread by default; the retraining loop passes fitOnWorker */
  readonly fit?: (train: TrainingSet, learner: LearnerSpec) => Promise<TreeEnsemble>;
}

export interface TrainedVersion {
  readonly runId: string;
  readonly version: ModelVersion;
  readonly holdout: RegressionMetrics;
  readonly trainingMillis: number;
}

export async function trainTrackAndRegister(
  tracking: TrackingStore,
  registry: ModelRegistry,
  job: TrainJob,
): Promise<TrainedVersion> {
  const experiment = await ensureExperiment(tracking, job.experiment);
  const run = await tracking.createRun({
    experimentId: experiment.id,
    name: `${job.model}-${job.learner.kind}`,
    ...(job.parentRunId === undefined ? {} : { parentRunId: job.parentRunId }),
    tags: {
      model: job.model,
      learner: job.learner.kind,
      "platform.trigger": job.reason.slice(0, 500),
      "platform.by": job.by,
      "training_set.table": job.set.lineage.table,
      "training_set.version": String(job.set.lineage.tableVersion ?? "none"),
      "training_set.views": job.set.lineage.views.map((v) => `${v.name}:v${v.version}`).join(","),
      ...job.extraTags,
    },
  });
  try {
    const started = performance.now();
    const { train, holdout } = splitByTime(job.set, job.holdoutFraction ?? 0.2);
    const ensemble = job.fit ? await job.fit(train, job.learner) : fitLearner(train, job.learner);
    const trainingMillis = performance.now() - started;
    const metrics = evaluateOn(ensemble, holdout);
    const trainMetrics = evaluateOn(ensemble, train);
    // a classifier is judged on its own figures too (log loss, AUC, precision, recall, F1)
    const classification = holdoutClassification(ensemble, holdout);
    await tracking.logParams(run.runId, { ...flatten(job.learner.params), learner: job.learner.kind });
    const now = Date.now();
    await tracking.logMetrics(run.runId, [
      { key: "holdout_rmse", value: metrics.rmse, step: 0, timestamp: now },
      { key: "holdout_mae", value: metrics.mae, step: 0, timestamp: now },
      { key: "holdout_r2", value: metrics.r2, step: 0, timestamp: now },
      { key: "train_rmse", value: trainMetrics.rmse, step: 0, timestamp: now },
      { key: "training_rows", value: train.rows.length, step: 0, timestamp: now },
      { key: "holdout_rows", value: holdout.rows.length, step: 0, timestamp: now },
      { key: "training_seconds", value: trainingMillis / 1000, step: 0, timestamp: now },
      ...Object.entries(classification).map(([key, value]) => ({ key, value, step: 0, timestamp: now })),
    ]);
    const encoder = new TextEncoder();
    const referenceSize = Math.min(job.referenceSize ?? 2_000, train.rows.length);
    // every k-th training row: the rows are in time order, so the first ones would be one day's
    const stride = train.rows.length / referenceSize;
    const reference = Object.fromEntries(
      job.set.featureNames.map((name, j) => [
        name,
        Array.from({ length: referenceSize }, (_, i) => train.rows[Math.floor(i * stride)]![j]!),
      ]),
    );
    await tracking.logArtifact(run.runId, MODEL_FILE, encoder.encode(JSON.stringify(ensemble.toJSON())));
    await tracking.logArtifact(
      run.runId,
      IMPORTANCE_FILE,
      encoder.encode(JSON.stringify(ensemble.featureImportance())),
    );
    await tracking.logArtifact(run.runId, REFERENCE_FILE, encoder.encode(JSON.stringify(reference)));
    await tracking.logArtifact(run.runId, TRAINING_SET_FILE, encoder.encode(JSON.stringify(job.set.lineage)));
    await tracking.logArtifact(
      run.runId,
      FEATURE_STATISTICS_FILE,
      encoder.encode(JSON.stringify(job.set.featureReferences ?? {})),
    );
    await tracking.endRun(run.runId, "FINISHED");
    await ensureModel(registry, job.model);
    const version = await registry.createVersion(job.model, {
      runId: run.runId,
      source: modelSource(run.runId),
      tags: {
        holdout_rmse: String(metrics.rmse),
        holdout_mae: String(metrics.mae),
        ...Object.fromEntries(Object.entries(classification).map(([key, value]) => [key, String(value)])),
        learner: job.learner.kind,
        "training_set.version": String(job.set.lineage.tableVersion ?? "none"),
      },
    });
    return { runId: run.runId, version, holdout: metrics, trainingMillis };
  } catch (error) {
    await tracking.endRun(run.runId, "FAILED");
    throw error;
  }
}

async function ensureModel(registry: ModelRegistry, name: string): Promise<void> {
  try {
    await registry.getModel(name);
  } catch (error) {
    if (!(error instanceof PlatformError) || error.code !== ErrorCodes.MODEL_NOT_FOUND) throw error;
    try {
      await registry.createModel(name);
    } catch (raced) {
      // another trainer created it between the read and the write
      if (!(raced instanceof PlatformError) || raced.code !== ErrorCodes.MODEL_REGISTRY_CONFLICT) throw raced;
    }
  }
}

function flatten(params: object): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      out[key] = value;
  }
  return out;
}
