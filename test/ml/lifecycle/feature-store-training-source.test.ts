import { expect, test } from "bun:test";
import type { FeatureStore } from "../../../features/feature-store.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { FeatureStoreTrainingSource } from "../../../ml/lifecycle/feature-store-training-source.ts";
import type { LabelledTrainingSet } from "../../../ml/lifecycle/training-set-source.ts";

/** The retraining loop's source on a node: each model's newest set from the feature store. */
const set: LabelledTrainingSet = {
  rows: [Float64Array.of(1)],
  labels: Float64Array.of(2),
  featureNames: ["x"],
  lineage: { table: "gold_sensor_windows", tableVersion: 7, views: [{ name: "v", version: 1 }] },
};
const store = {} as FeatureStore;

test.each([
  ["a model with a builder gets its set from the store", store, "m", undefined],
  ["a model without one is MODEL_NOT_FOUND", store, "other", ErrorCodes.MODEL_NOT_FOUND],
  ["without a feature store (FEATURES=off) nothing trains", undefined, "m", ErrorCodes.TRAINING_DATA_INVALID],
])("%s", async (_name, given, model, code) => {
  const asked: FeatureStore[] = [];
  const source = new FeatureStoreTrainingSource(given, {
    m: async (s) => {
      asked.push(s);
      return set;
    },
  });
  if (code === undefined) {
    expect(await source.latest(model)).toBe(set);
    expect(asked).toEqual([store]);
  } else {
    await expect(source.latest(model)).rejects.toMatchObject({ code });
    expect(asked).toEqual([]);
  }
});
