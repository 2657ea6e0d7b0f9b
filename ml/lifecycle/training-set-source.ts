import type { TrainingSet } from "../tree/training-set.ts";

/**
 * Where a model's training data comes from: the latest point-in-time training set of its
 * features (the feature store's retrieval over the lake's gold tables), with the lineage a run
 * records (the table and its Delta version, the feature views and their versions). A port, so
 * the retraining loop does not care whether the rows came from the lake or from a test.
 */
export interface TrainingSetLineage {
  readonly table: string;
  readonly tableVersion: number | null;
  readonly views: readonly { readonly name: string; readonly version: number }[];
}

/**
 * The statistics of the view feature a model feature was read from, for the view version the
 * set joined: the drift reference of every model trained on that version (issue 9). Quantiles
 * are DuckDB's exact quantile_cont over the view's rows at `tableVersion`.
 */
export interface FeatureReference {
  readonly view: string;
  readonly version: number;
  readonly feature: string;
  readonly tableVersion: number | null;
  readonly count: number;
  readonly mean: number | null;
  readonly stddev: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly quantiles: {
    readonly p05: number;
    readonly p25: number;
    readonly p50: number;
    readonly p75: number;
    readonly p95: number;
  } | null;
}

export interface LabelledTrainingSet extends TrainingSet {
  readonly featureNames: readonly string[];
  readonly lineage: TrainingSetLineage;
  /** model feature -> the view statistics it is monitored against (absent: the training sample) */
  readonly featureReferences?: Readonly<Record<string, FeatureReference>>;
}

export interface TrainingSetSource {
  /** the newest training set for the model; TRAINING_DATA_INVALID when there is too little */
  latest(model: string): Promise<LabelledTrainingSet>;
}
