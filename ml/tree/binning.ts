import type { PackedTrainingSet } from "./training-set.ts";

/**
 * Quantile binning of each feature, as in LightGBM (Ke et al. 2017, "histogram-based
 * algorithm") and scikit-learn's HistGradientBoosting: each feature's finite values are cut at
 * up to `maxBins - 1` distinct quantiles, so a split is a choice among <= maxBins - 1 cut
 * points instead of among all distinct values.
 *
 * Bin b of feature j holds values v with upperBounds[j][b-1] < v <= upperBounds[j][b]; the last
 * bin's upper bound is +Infinity. Missing values (NaN) get the reserved bin `MISSING_BIN`.
 * A tree's split "bin <= b" is therefore the raw test "v <= upperBounds[j][b]", which is what
 * the flat model stores, so predictions never need the binner.
 */
export const MISSING_BIN = 255;
export const MAX_BINS = 255;

export interface BinnedMatrix {
  /** Row-major, rowCount x featureCount, one byte per value. */
  readonly bins: Uint8Array;
  readonly rowCount: number;
  readonly featureCount: number;
  /** Per feature, the upper bound of each bin; length = that feature's bin count. */
  readonly upperBounds: readonly Float64Array[];
}

export function binTrainingSet(set: PackedTrainingSet, maxBins: number): BinnedMatrix {
  const { matrix, rowCount, featureCount } = set;
  const upperBounds: Float64Array[] = [];
  const bins = new Uint8Array(rowCount * featureCount);
  const column = new Float64Array(rowCount);
  for (let j = 0; j < featureCount; j++) {
    let finite = 0;
    for (let i = 0; i < rowCount; i++) {
      const v = matrix[i * featureCount + j]!;
      if (!Number.isNaN(v)) column[finite++] = v;
    }
    const sorted = column.subarray(0, finite).slice().sort();
    const bounds = quantileUpperBounds(sorted, maxBins);
    upperBounds.push(bounds);
    for (let i = 0; i < rowCount; i++) {
      const v = matrix[i * featureCount + j]!;
      bins[i * featureCount + j] = Number.isNaN(v) ? MISSING_BIN : binOf(bounds, v);
    }
  }
  return { bins, rowCount, featureCount, upperBounds };
}

/** Upper bounds at midpoints between distinct neighbouring quantiles; last bound +Infinity. */
function quantileUpperBounds(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  if (n === 0) return Float64Array.of(Number.POSITIVE_INFINITY);
  const distinct: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  const bounds: number[] = [];
  if (distinct.length <= maxBins) {
    for (let k = 0; k < distinct.length - 1; k++) bounds.push((distinct[k]! + distinct[k + 1]!) / 2);
  } else {
    for (let k = 1; k < maxBins; k++) {
      const at = Math.min(n - 1, Math.floor((k * n) / maxBins));
      const low = sorted[at - 1]!;
      const high = sorted[at]!;
      if (low === high) continue;
      const cut = (low + high) / 2;
      if (bounds.length === 0 || cut > bounds[bounds.length - 1]!) bounds.push(cut);
    }
  }
  bounds.push(Number.POSITIVE_INFINITY);
  return Float64Array.from(bounds);
}

/** First bin whose upper bound is >= v (binary search). */
function binOf(bounds: Float64Array, v: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
