import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { SeededRandom } from "./random.ts";
import type { TrainingSet } from "./training-set.ts";

export interface RegressionMetrics {
  readonly rmse: number;
  readonly mae: number;
  /** Coefficient of determination, 1 - SSE/SST; 0 for a predictor of the mean, negative if worse. */
  readonly r2: number;
  readonly count: number;
}

export function evaluateRegression(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
): RegressionMetrics {
  const count = actual.length;
  if (count === 0 || predicted.length !== count) {
    throw new PlatformError(
      ErrorCodes.TRAINING_DATA_INVALID,
      `cannot evaluate ${predicted.length} predictions against ${count} labels`,
    );
  }
  let mean = 0;
  for (let i = 0; i < count; i++) mean += actual[i]!;
  mean /= count;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const error = actual[i]! - predicted[i]!;
    squared += error * error;
    absolute += Math.abs(error);
    total += (actual[i]! - mean) ** 2;
  }
  return {
    rmse: Math.sqrt(squared / count),
    mae: absolute / count,
    r2: total > 0 ? 1 - squared / total : squared === 0 ? 1 : 0,
    count,
  };
}

/** A seeded random split into a training part and a holdout of about `holdoutFraction` rows. */
export function splitHoldout(
  set: TrainingSet,
  holdoutFraction: number,
  seed: number,
): { train: TrainingSet; holdout: TrainingSet } {
  const n = set.rows.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const random = new SeededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const holdoutSize = Math.min(n - 1, Math.max(1, Math.round(holdoutFraction * n)));
  const pick = (indices: number[]): TrainingSet => ({
    rows: indices.map((i) => set.rows[i]!),
    labels: Float64Array.from(indices, (i) => set.labels[i]!),
    ...(set.featureNames === undefined ? {} : { featureNames: set.featureNames }),
  });
  return { holdout: pick(order.slice(0, holdoutSize)), train: pick(order.slice(holdoutSize)) };
}
