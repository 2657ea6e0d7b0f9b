import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/** What a caller hands to a trainer: one row per sample, one label per row. */
export interface TrainingSet {
  readonly rows: ReadonlyArray<ArrayLike<number>>;
  readonly labels: ArrayLike<number>;
  /** Optional names, one per column; default `f0`, `f1`, ... */
  readonly featureNames?: readonly string[];
}

/** The validated, packed form the learners work on: a row-major matrix and finite labels. */
export interface PackedTrainingSet {
  readonly matrix: Float64Array;
  readonly labels: Float64Array;
  readonly rowCount: number;
  readonly featureCount: number;
  readonly featureNames: readonly string[];
}

/**
 * Checks the shape of a training set and packs it. Feature values may be NaN (missing; the trees
 * learn where to send them) but not infinite; labels must be finite. Every problem is a
 * TRAINING_DATA_INVALID error that names the offending row.
 */
export function packTrainingSet(set: TrainingSet): PackedTrainingSet {
  const rowCount = set.rows.length;
  if (rowCount === 0) fail("the training set is empty: at least one row is needed", {});
  if (set.labels.length !== rowCount) {
    fail(`there are ${rowCount} rows but ${set.labels.length} labels`, {
      rows: rowCount,
      labels: set.labels.length,
    });
  }
  const featureCount = set.rows[0]!.length;
  if (featureCount === 0) fail("rows have no features", {});
  const featureNames = set.featureNames ?? Array.from({ length: featureCount }, (_, j) => `f${j}`);
  if (featureNames.length !== featureCount) {
    fail(`${featureNames.length} feature names for ${featureCount} features`, {});
  }
  const matrix = new Float64Array(rowCount * featureCount);
  const labels = new Float64Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const row = set.rows[i]!;
    if (row.length !== featureCount) {
      fail(`row ${i} has ${row.length} features, row 0 has ${featureCount}`, { row: i });
    }
    for (let j = 0; j < featureCount; j++) {
      const value = row[j]!;
      if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) {
        fail(`row ${i} feature ${featureNames[j]} is infinite`, { row: i, feature: featureNames[j] });
      }
      matrix[i * featureCount + j] = value;
    }
    const label = set.labels[i]!;
    if (!Number.isFinite(label)) fail(`label of row ${i} is not a finite number`, { row: i });
    labels[i] = label;
  }
  return { matrix, labels, rowCount, featureCount, featureNames };
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new PlatformError(ErrorCodes.TRAINING_DATA_INVALID, message, { details });
}
