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
  /**
   * Column-major, one byte per value: feature j of row i is bins[j * rowCount + i]. A histogram
   * pass and a partition each read one feature of many rows, so a column is what they stream.
   */
  readonly bins: Uint8Array;
  readonly rowCount: number;
  readonly featureCount: number;
  /** Per feature, the upper bound of each bin; length = that feature's bin count. */
  readonly upperBounds: readonly Float64Array[];
}

export function binTrainingSet(set: PackedTrainingSet, maxBins: number): BinnedMatrix {
  const { matrix, rowCount, featureCount } = set;
  const upperBounds: Float64Array[] = [];
  // Shared memory, so that a histogram helper thread (histogram-helper.ts) can read it as is.
  const bins = new Uint8Array(new SharedArrayBuffer(rowCount * featureCount));
  const column = new Float64Array(rowCount);
  const finiteValues = new Float64Array(rowCount);
  for (let j = 0; j < featureCount; j++) {
    let finite = 0;
    for (let i = 0; i < rowCount; i++) {
      const v = matrix[i * featureCount + j]!;
      column[i] = v;
      if (!Number.isNaN(v)) finiteValues[finite++] = v;
    }
    const bounds = quantileUpperBounds(finiteValues.subarray(0, finite).sort(), maxBins);
    upperBounds.push(bounds);
    binColumn(bounds, column, bins.subarray(j * rowCount, (j + 1) * rowCount));
  }
  return { bins, rowCount, featureCount, upperBounds };
}

/** Upper bounds at midpoints between distinct neighbouring quantiles; last bound +Infinity. */
function quantileUpperBounds(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  if (n === 0) return Float64Array.of(Number.POSITIVE_INFINITY);
  const bounds: number[] = [];
  if (distinctAtMost(sorted, maxBins)) {
    for (let i = 1; i < n; i++)
      if (sorted[i] !== sorted[i - 1]) bounds.push((sorted[i - 1]! + sorted[i]!) / 2);
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

/** Whether a sorted array holds at most `limit` distinct values; stops counting past it. */
function distinctAtMost(sorted: Float64Array, limit: number): boolean {
  let distinct = 1;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] !== sorted[i - 1] && ++distinct > limit) return false;
  }
  return true;
}

/** Cells of the lookup grid per cut point, and the most cut points a cell may hold for it to pay. */
const CELLS_PER_BOUND = 4;
const MAX_BOUNDS_PER_CELL = 8;

/**
 * out[i] = the bin of values[i] (MISSING_BIN for NaN). The answer is "the first bin whose upper
 * bound is >= v"; a binary search over up to 254 cut points costs 8 hard-to-predict branches per
 * value, most of the binning time. A uniform grid over the cut points' range remembers, per cell,
 * the first bin a value in it can have, so a value takes one multiplication and a step or two.
 * The final walk is correct from any start, so rounding at a cell's edge costs a step, never a
 * wrong bin; a skewed feature whose cut points crowd into a few cells uses the binary search.
 */
export function binColumn(bounds: Float64Array, values: Float64Array, out: Uint8Array): void {
  const last = bounds.length - 1;
  if (last === 0) {
    for (let i = 0; i < values.length; i++) out[i] = Number.isNaN(values[i]!) ? MISSING_BIN : 0;
    return;
  }
  const low = bounds[0]!;
  const high = bounds[last - 1]!;
  const cells = CELLS_PER_BOUND * last;
  const scale = high > low ? cells / (high - low) : 0;
  const first = new Uint8Array(cells + 1);
  // first[cell] = the first bin whose bound reaches the cell's lower edge; a cell holding more
  // than MAX_BOUNDS_PER_CELL cut points makes the feature "crowded".
  let crowded = !(scale > 0 && Number.isFinite(scale));
  for (let cell = 0, bin = 0; cell <= cells && !crowded; cell++) {
    const edge = low + cell / scale;
    const previous = bin;
    while (bin < last && bounds[bin]! < edge) bin++;
    first[cell] = bin;
    crowded = bin - previous > MAX_BOUNDS_PER_CELL;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) out[i] = MISSING_BIN;
    else if (v <= low) out[i] = 0;
    else if (v > high) out[i] = last;
    else if (crowded) out[i] = binOf(bounds, v);
    else {
      let bin = first[Math.min(cells, Math.floor((v - low) * scale))]!;
      while (bin > 0 && v <= bounds[bin - 1]!) bin--;
      while (v > bounds[bin]!) bin++;
      out[i] = bin;
    }
  }
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
