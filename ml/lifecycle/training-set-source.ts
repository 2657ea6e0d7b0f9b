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

export interface LabelledTrainingSet extends TrainingSet {
  readonly featureNames: readonly string[];
  readonly lineage: TrainingSetLineage;
}

export interface TrainingSetSource {
  /** the newest training set for the model; TRAINING_DATA_INVALID when there is too little */
  latest(model: string): Promise<LabelledTrainingSet>;
}
