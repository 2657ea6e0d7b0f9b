import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * A binary classifier's holdout metrics from its probabilities: log loss (the loss it was trained
 * on), ROC AUC (ranking, threshold-free), and at the threshold: accuracy, precision, recall, F1.
 * Defined as scikit-learn defines them (`log_loss` with p clipped to [1e-15, 1 - 1e-15],
 * `roc_auc_score` with ties counted half, precision and recall 0 when their denominator is 0).
 */
export interface ClassificationMetrics {
  readonly logLoss: number;
  /** NaN when the labels hold one class only (AUC is undefined then) */
  readonly auc: number;
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly positives: number;
  readonly count: number;
}

const EPSILON = 1e-15;

export function evaluateClassification(
  actual: ArrayLike<number>,
  probability: ArrayLike<number>,
  threshold = 0.5,
): ClassificationMetrics {
  const count = actual.length;
  if (count === 0 || probability.length !== count)
    throw new PlatformError(
      ErrorCodes.TRAINING_DATA_INVALID,
      `cannot evaluate ${probability.length} probabilities against ${count} labels`,
    );
  let loss = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let positives = 0;
  for (let i = 0; i < count; i++) {
    const y = actual[i]!;
    if (y !== 0 && y !== 1)
      throw new PlatformError(ErrorCodes.TRAINING_DATA_INVALID, `label ${i} is ${y}, not 0 or 1`);
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, probability[i]!));
    loss -= y === 1 ? Math.log(p) : Math.log(1 - p);
    positives += y;
    const predicted = probability[i]! >= threshold;
    if (predicted && y === 1) tp++;
    else if (predicted) fp++;
    else if (y === 1) fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return {
    logLoss: loss / count,
    auc: rocAuc(actual, probability),
    accuracy: (count - fp - fn) / count,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    positives,
    count,
  };
}

/**
 * ROC AUC as the Mann-Whitney statistic: the chance that a random positive scores above a random
 * negative, ties counting half (average ranks over tied scores).
 */
export function rocAuc(actual: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = actual.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && score[order[end]!] === score[order[start]!]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++)
      if (actual[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * A classifier's holdout figures as a run logs them (`holdout_log_loss`, `holdout_auc`, ...), or
 * none for a model that is not a log-loss classifier. AUC is left out when the holdout holds one
 * class only (it is undefined then, and a tracking store takes numbers).
 */
export function holdoutClassification(
  model: {
    readonly params: Readonly<Record<string, unknown>>;
    predictBatch(rows: ReadonlyArray<ArrayLike<number>>): Float64Array;
  },
  holdout: { readonly rows: ReadonlyArray<ArrayLike<number>>; readonly labels: ArrayLike<number> },
): Record<string, number> {
  if (model.params.loss !== "log-loss" || holdout.rows.length === 0) return {};
  const m = evaluateClassification(holdout.labels, model.predictBatch(holdout.rows));
  const figures: Record<string, number> = {
    holdout_log_loss: m.logLoss,
    holdout_accuracy: m.accuracy,
    holdout_precision: m.precision,
    holdout_recall: m.recall,
    holdout_f1: m.f1,
  };
  if (Number.isFinite(m.auc)) figures.holdout_auc = m.auc;
  return figures;
}
