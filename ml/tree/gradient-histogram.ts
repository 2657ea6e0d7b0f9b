import { type BinnedMatrix, MISSING_BIN } from "./binning.ts";

/**
 * Gradient histograms, the inner loop of histogram tree learners (LightGBM, Ke et al. 2017;
 * scikit-learn's HistGradientBoosting, `_hist_gradient_boosting/histogram.pyx`).
 *
 * A node's histogram holds, per feature and bin, the sum of the rows' gradients and the row
 * count. The loss is squared error (or any loss grown on a unit hessian), so the count is the
 * hessian sum: the constant-hessian shortcut both libraries take. Layout, one Float64Array:
 *
 *   [ feature 0: (sum, count) x 256 slots | feature 1: ... ]   slot 255 = MISSING_BIN
 *
 * (sum, count) share a cache line, so one bin update touches one line. Building reads the
 * column-major bins of the node's rows: rows inside a node stay in ascending order (the
 * partition is stable), so each feature's pass reads its column front to back with gaps. The
 * gradients are first gathered into node order ("ordered gradients", as scikit-learn does) so
 * that the per-feature passes read them sequentially.
 */
export const HISTOGRAM_SLOTS = 256;
const STRIDE = 2;
export const FEATURE_STRIDE = HISTOGRAM_SLOTS * STRIDE;

export function histogramLength(featureCount: number): number {
  return featureCount * FEATURE_STRIDE;
}

/**
 * Adds rows[start, end) into `histogram` (zeroed by the caller). `ordered` is scratch space of at
 * least end - start entries.
 */
export function fillHistogram(
  data: BinnedMatrix,
  gradients: Float64Array,
  rows: Uint32Array,
  start: number,
  end: number,
  ordered: Float64Array,
  histogram: Float64Array,
): void {
  gatherGradients(gradients, rows, start, end, ordered);
  addRows(data, rows, start, end, ordered, histogram, 0, data.featureCount);
}

/** ordered[i] = gradients[rows[start + i]]: the node's gradients in its row order. */
export function gatherGradients(
  gradients: Float64Array,
  rows: Uint32Array,
  start: number,
  end: number,
  ordered: Float64Array,
): void {
  const count = end - start;
  for (let i = 0; i < count; i++) ordered[i] = gradients[rows[start + i]!]!;
}

/**
 * Adds rows[start, end), whose gradients `ordered` holds in the same order, into the features
 * [from, to) of `histogram`. Features are independent, so two threads may fill disjoint ranges.
 */
export function addRows(
  data: BinnedMatrix,
  rows: Uint32Array,
  start: number,
  end: number,
  ordered: Float64Array,
  histogram: Float64Array,
  from: number,
  to: number,
): void {
  const { bins, rowCount } = data;
  const count = end - start;
  // Four features per pass: each row index and gradient is read once for all four, and the
  // four histograms' updates are independent, which keeps four store-to-load chains in flight.
  // Measured on the 80k x 20 bench set: about 1.25 ns per (row, feature) against 1.5 ns for two
  // features per pass and 1.65 ns for a row-major pass over all features.
  let j = from;
  for (; j + 3 < to; j += 4) {
    const columnA = j * rowCount;
    const columnB = columnA + rowCount;
    const columnC = columnB + rowCount;
    const columnD = columnC + rowCount;
    const baseA = j * FEATURE_STRIDE;
    const baseB = baseA + FEATURE_STRIDE;
    const baseC = baseB + FEATURE_STRIDE;
    const baseD = baseC + FEATURE_STRIDE;
    for (let i = 0; i < count; i++) {
      const row = rows[start + i]!;
      const g = ordered[i]!;
      const a = baseA + (bins[columnA + row]! << 1);
      const b = baseB + (bins[columnB + row]! << 1);
      const c = baseC + (bins[columnC + row]! << 1);
      const d = baseD + (bins[columnD + row]! << 1);
      histogram[a] = histogram[a]! + g;
      histogram[a + 1] = histogram[a + 1]! + 1;
      histogram[b] = histogram[b]! + g;
      histogram[b + 1] = histogram[b + 1]! + 1;
      histogram[c] = histogram[c]! + g;
      histogram[c + 1] = histogram[c + 1]! + 1;
      histogram[d] = histogram[d]! + g;
      histogram[d + 1] = histogram[d + 1]! + 1;
    }
  }
  for (; j < to; j++) {
    const column = j * rowCount;
    const base = j * FEATURE_STRIDE;
    for (let i = 0; i < count; i++) {
      const slot = base + (bins[column + rows[start + i]!]! << 1);
      histogram[slot] = histogram[slot]! + ordered[i]!;
      histogram[slot + 1] = histogram[slot + 1]! + 1;
    }
  }
}

/**
 * The histogram of every row of the matrix, in order (a boosting round's root without row
 * sampling): no row indices to follow, and the counts, the same every round, come from
 * `counts` (binCounts) instead of being counted again, so each (row, feature) is one addition.
 */
export function fillHistogramAllRows(
  data: BinnedMatrix,
  gradients: Float64Array,
  counts: Float64Array,
  histogram: Float64Array,
  from = 0,
  to = data.featureCount,
): void {
  const { bins, rowCount } = data;
  let j = from;
  for (; j + 3 < to; j += 4) {
    const columnA = j * rowCount;
    const columnB = columnA + rowCount;
    const columnC = columnB + rowCount;
    const columnD = columnC + rowCount;
    const baseA = j * FEATURE_STRIDE;
    const baseB = baseA + FEATURE_STRIDE;
    const baseC = baseB + FEATURE_STRIDE;
    const baseD = baseC + FEATURE_STRIDE;
    for (let i = 0; i < rowCount; i++) {
      const g = gradients[i]!;
      const a = baseA + (bins[columnA + i]! << 1);
      const b = baseB + (bins[columnB + i]! << 1);
      const c = baseC + (bins[columnC + i]! << 1);
      const d = baseD + (bins[columnD + i]! << 1);
      histogram[a] = histogram[a]! + g;
      histogram[b] = histogram[b]! + g;
      histogram[c] = histogram[c]! + g;
      histogram[d] = histogram[d]! + g;
    }
  }
  for (; j < to; j++) {
    const column = j * rowCount;
    const base = j * FEATURE_STRIDE;
    for (let i = 0; i < rowCount; i++) {
      const slot = base + (bins[column + i]! << 1);
      histogram[slot] = histogram[slot]! + gradients[i]!;
    }
  }
  for (let k = from * FEATURE_STRIDE + 1; k < to * FEATURE_STRIDE; k += 2) histogram[k] = counts[k]!;
}

/** Row counts per (feature, bin) over the whole matrix, in histogram layout (odd slots). */
export function binCounts(data: BinnedMatrix): Float64Array {
  const { bins, rowCount, featureCount } = data;
  const counts = new Float64Array(histogramLength(featureCount));
  for (let j = 0; j < featureCount; j++) {
    const column = j * rowCount;
    const base = j * FEATURE_STRIDE + 1;
    for (let i = 0; i < rowCount; i++) counts[base + (bins[column + i]! << 1)]! += 1;
  }
  return counts;
}

/** parent -= child, in place: the histogram subtraction trick (the sibling's histogram). */
export function subtractHistogram(parent: Float64Array, child: Float64Array): void {
  for (let k = 0; k < parent.length; k++) parent[k] = parent[k]! - child[k]!;
}

export interface Split {
  feature: number;
  /** Rows with bin <= `bin` go left; the threshold is that bin's upper bound. */
  bin: number;
  missingLeft: boolean;
  gain: number;
  /** Gradient sum and row count of the left child; the right child's are the rest. */
  leftSum: number;
  leftCount: number;
}

export interface SplitRules {
  readonly l2: number;
  readonly minSamplesLeaf: number;
}

/**
 * The best split of a node over the first `considered` features of `features`, or undefined when
 * none leaves minSamplesLeaf rows on both sides. One left-to-right scan of each feature's
 * histogram; missing values (the MISSING_BIN slot) try both sides and the better is kept, the
 * learned default direction. A node that saw no missing value sends NaN left. The gain is
 * GL^2/(nL+l2) + GR^2/(nR+l2) - G^2/(n+l2), the Newton gain with unit hessians (XGBoost eq. 7,
 * without the 1/2 and gamma).
 */
export function bestSplit(
  data: BinnedMatrix,
  histogram: Float64Array,
  total: number,
  count: number,
  features: Int32Array,
  considered: number,
  rules: SplitRules,
): Split | undefined {
  const { l2, minSamplesLeaf } = rules;
  const parentScore = (total * total) / (count + l2);
  let bestGain = Number.NEGATIVE_INFINITY;
  let bestFeature = -1;
  let bestBin = 0;
  let bestMissingLeft = true;
  let bestLeftSum = 0;
  let bestLeftCount = 0;
  for (let k = 0; k < considered; k++) {
    const feature = features[k]!;
    const binCount = data.upperBounds[feature]!.length;
    const base = feature * FEATURE_STRIDE;
    const missingSum = histogram[base + MISSING_BIN * STRIDE]!;
    const missingCount = histogram[base + MISSING_BIN * STRIDE + 1]!;
    let leftSum = 0;
    let leftCount = 0;
    for (let bin = 0; bin < binCount - 1; bin++) {
      const binRows = histogram[base + bin * STRIDE + 1]!;
      if (binRows === 0) continue;
      leftSum += histogram[base + bin * STRIDE]!;
      leftCount += binRows;
      // Missing values go right. Once the right side is too small it only shrinks: stop.
      let nl = leftCount;
      let nr = count - nl;
      if (nr < minSamplesLeaf) break;
      if (nl >= minSamplesLeaf) {
        const gr = total - leftSum;
        const gain = (leftSum * leftSum) / (nl + l2) + (gr * gr) / (nr + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = feature;
          bestBin = bin;
          bestMissingLeft = missingCount === 0;
          bestLeftSum = leftSum;
          bestLeftCount = nl;
        }
      }
      if (missingCount === 0) continue;
      // Missing values go left.
      const gl = leftSum + missingSum;
      nl = leftCount + missingCount;
      nr = count - nl;
      if (nl >= minSamplesLeaf && nr >= minSamplesLeaf) {
        const gr = total - gl;
        const gain = (gl * gl) / (nl + l2) + (gr * gr) / (nr + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = feature;
          bestBin = bin;
          bestMissingLeft = true;
          bestLeftSum = gl;
          bestLeftCount = nl;
        }
      }
    }
  }
  if (bestFeature < 0) return undefined;
  return {
    feature: bestFeature,
    bin: bestBin,
    missingLeft: bestMissingLeft,
    gain: bestGain,
    leftSum: bestLeftSum,
    leftCount: bestLeftCount,
  };
}
