import { expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { evaluateClassification, holdoutClassification } from "../../../ml/tree/classification-metrics.ts";
import { trainGradientBoosting } from "../../../ml/tree/gradient-boosting.ts";

const cases: Array<[string, number[], number[], Partial<Record<string, number>>]> = [
  [
    "a perfect classifier",
    [0, 1, 0, 1],
    [0.1, 0.9, 0.2, 0.8],
    { auc: 1, accuracy: 1, precision: 1, recall: 1, f1: 1 },
  ],
  [
    "one false positive, one false negative",
    [0, 0, 1, 1],
    [0.7, 0.2, 0.4, 0.9],
    { auc: 0.75, accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5 },
  ],
  ["nothing predicted positive", [0, 1], [0.1, 0.3], { precision: 0, recall: 0, f1: 0, accuracy: 0.5 }],
  // scikit-learn: log_loss([0, 1], [0.5, 0.5]) = ln 2
  ["a coin", [0, 1], [0.5, 0.5], { logLoss: Math.LN2, auc: 0.5 }],
];
for (const [name, labels, probabilities, expected] of cases) {
  test(`classification metrics of ${name}`, () => {
    const metrics = evaluateClassification(labels, probabilities) as unknown as Record<string, number>;
    for (const [key, value] of Object.entries(expected)) expect(metrics[key]).toBeCloseTo(value!, 12);
  });
}

test("log loss stays finite for a certain, wrong probability (clipped as scikit-learn clips)", () => {
  expect(evaluateClassification([1], [0]).logLoss).toBeCloseTo(-Math.log(1e-15), 6);
});

test("mismatched lengths and labels other than 0/1 are TRAINING_DATA_INVALID", () => {
  for (const [labels, p] of [
    [[0, 1], [0.5]],
    [[2], [0.5]],
  ] as const) {
    let caught: unknown;
    try {
      evaluateClassification(labels, p);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, "TRAINING_DATA_INVALID")).toBe(true);
  }
});

test("a run's holdout figures: a log-loss classifier has them, a regressor has none, AUC only with both classes", () => {
  const rows = Array.from({ length: 200 }, (_, i) => [i]);
  const labels = rows.map(([x]) => (x! > 100 ? 1 : 0));
  const classifier = trainGradientBoosting(
    { rows, labels },
    { loss: "log-loss", nTrees: 5, minSamplesLeaf: 5 },
  );
  const figures = holdoutClassification(classifier, { rows, labels });
  expect(Object.keys(figures).sort()).toEqual([
    "holdout_accuracy",
    "holdout_auc",
    "holdout_f1",
    "holdout_log_loss",
    "holdout_precision",
    "holdout_recall",
  ]);
  expect(figures.holdout_auc).toBe(1);
  const oneClass = holdoutClassification(classifier, {
    rows: rows.slice(0, 50),
    labels: labels.slice(0, 50),
  });
  expect(oneClass.holdout_auc).toBeUndefined();
  const regressor = trainGradientBoosting({ rows, labels }, { nTrees: 5 });
  expect(holdoutClassification(regressor, { rows, labels })).toEqual({});
});
