import { expect, test } from "bun:test";
import { evaluateRegression, splitHoldout } from "../../../ml/tree/regression-metrics.ts";

test("RMSE, MAE and R2 match values worked by hand", () => {
  // errors 0, 1, -1, 2; SSE 6, SST of [1,2,3,4] = 5
  const m = evaluateRegression([1, 2, 3, 4], [1, 1, 4, 2]);
  expect(m.rmse).toBeCloseTo(Math.sqrt(6 / 4), 12);
  expect(m.mae).toBeCloseTo(1, 12);
  expect(m.r2).toBeCloseTo(1 - 6 / 5, 12);
});

test("predicting the mean scores R2 of zero", () => {
  expect(evaluateRegression([1, 2, 3], [2, 2, 2]).r2).toBe(0);
});

test("mismatched lengths are refused", () => {
  expect(() => evaluateRegression([1, 2], [1])).toThrow(/TRAINING_DATA_INVALID/);
});

test("a holdout split is a seeded partition of the rows", () => {
  const set = {
    rows: Array.from({ length: 100 }, (_, i) => [i]),
    labels: Array.from({ length: 100 }, (_, i) => i),
  };
  const a = splitHoldout(set, 0.2, 1);
  const b = splitHoldout(set, 0.2, 1);
  expect(a.holdout.rows.length).toBe(20);
  expect(a.holdout.rows).toEqual(b.holdout.rows);
  const all = [...a.train.rows, ...a.holdout.rows].map((row) => row[0]!).sort((x, y) => x - y);
  expect(all).toEqual(set.rows.map((row) => row[0]!));
});
