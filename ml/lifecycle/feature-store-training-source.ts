import type { FeatureStore } from "../../features/feature-store.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { LabelledTrainingSet, TrainingSetSource } from "./training-set-source.ts";

/**
 * The retraining loop's source on a node: each model's latest point-in-time training set from
 * the feature store (the builder per model: `traffic-training-set.ts`, `utility-training-set.ts`).
 * Without a feature store (FEATURES=off) no model can train here: a clear TRAINING_DATA_INVALID.
 */
export type TrainingSetBuilder = (store: FeatureStore) => Promise<LabelledTrainingSet>;

export class FeatureStoreTrainingSource implements TrainingSetSource {
  constructor(
    private readonly store: FeatureStore | undefined,
    private readonly builders: Readonly<Record<string, TrainingSetBuilder>>,
  ) {}

  latest(model: string): Promise<LabelledTrainingSet> {
    const build = this.builders[model];
    if (!build)
      return Promise.reject(
        new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `no training set is defined for model ${model}`),
      );
    if (!this.store)
      return Promise.reject(
        new PlatformError(
          ErrorCodes.TRAINING_DATA_INVALID,
          `the feature store is off on this node (FEATURES=off): ${model} cannot be trained here`,
        ),
      );
    return build(this.store);
  }
}
