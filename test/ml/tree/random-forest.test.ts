import { expect, test } from "bun:test";
import { trainRandomForest } from "../../../ml/tree/random-forest.ts";
import { knownFunctionSet, treeLearnerContract } from "./tree-learner.case.ts";

treeLearnerContract("random forest", (set, seed, trainedAt) =>
  trainRandomForest(set, { nTrees: 30, maxDepth: 10, seed }, trainedAt),
);

treeLearnerContract("random forest with feature sampling and no bootstrap", (set, seed, trainedAt) =>
  trainRandomForest(
    set,
    { nTrees: 30, maxDepth: 10, featureFraction: 0.5, bootstrap: false, seed },
    trainedAt,
  ),
);

test("a one-tree forest of depth 1 predicts one of two leaf means", () => {
  const set = { rows: [[0], [1], [2], [3]], labels: [0, 0, 10, 10] };
  const model = trainRandomForest(set, { nTrees: 1, maxDepth: 1, minSamplesLeaf: 1, bootstrap: false });
  expect([model.predict([0]), model.predict([3])]).toEqual([0, 10]);
  expect(model.predict([1.4])).toBe(0);
  expect(model.predict([1.6])).toBe(10);
});

test("feature importance shares sum to one and rank the informative feature first", () => {
  const model = trainRandomForest(knownFunctionSet(1_000, 3), { nTrees: 20, maxDepth: 6 });
  const importance = model.featureImportance();
  expect(importance[0]!.feature).toBe("step");
  expect(importance.reduce((sum, f) => sum + f.share, 0)).toBeCloseTo(1, 10);
});
