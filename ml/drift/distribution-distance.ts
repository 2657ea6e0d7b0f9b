import { requireSize, sortedFinite } from "./sample.ts";

/**
 * Binned comparisons of a current sample against a reference: Population Stability Index and
 * Jensen-Shannon distance. Bins are cut at the reference's quantiles (k / bins, linear
 * interpolation as numpy's default), duplicates removed, so each bin holds about the same share
 * of the reference; bin i holds edges[i-1] < v <= edges[i], the outer bins are open.
 *
 * PSI = sum_i (c_i - r_i) ln(c_i / r_i) over bin proportions (Siddiqi, "Credit Risk Scorecards",
 * 2006). A bin empty in either sample would make the logarithm infinite, so proportions below
 * `epsilon` (default 1e-4) are raised to epsilon, without renormalising. Rule of thumb:
 * < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
 *
 * Jensen-Shannon distance = sqrt(JSD) with base-2 logarithms, so it lies in [0, 1]
 * (as scipy.spatial.distance.jensenshannon(p, q, base=2)).
 */
export const DEFAULT_PSI_EPSILON = 1e-4;

/** Interior cut points at the reference's quantiles; `sorted` must be sorted and finite. */
export function quantileEdges(sorted: Float64Array, bins: number): Float64Array {
  const edges: number[] = [];
  const n = sorted.length;
  for (let k = 1; k < bins; k++) {
    const position = (k / bins) * (n - 1);
    const low = Math.floor(position);
    const high = Math.min(n - 1, low + 1);
    const value = sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
    if (edges.length === 0 || value > edges[edges.length - 1]!) edges.push(value);
  }
  return Float64Array.from(edges);
}

/** Share of a sample's finite values in each of edges.length + 1 bins. */
export function binProportions(values: ArrayLike<number>, edges: Float64Array): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v <= edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
    total++;
  }
  if (total > 0) for (let i = 0; i < counts.length; i++) counts[i]! /= total;
  return counts;
}

export function psiOfProportions(
  reference: Float64Array,
  current: Float64Array,
  epsilon = DEFAULT_PSI_EPSILON,
): number {
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]!, epsilon);
    const c = Math.max(current[i]!, epsilon);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sumP = 0;
  let sumQ = 0;
  for (let i = 0; i < p.length; i++) {
    sumP += p[i]!;
    sumQ += q[i]!;
  }
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sumP;
    const qi = q[i]! / sumQ;
    const mi = (pi + qi) / 2;
    if (pi > 0) divergence += 0.5 * pi * Math.log2(pi / mi);
    if (qi > 0) divergence += 0.5 * qi * Math.log2(qi / mi);
  }
  return Math.sqrt(Math.max(0, divergence));
}

/** PSI of `current` against `reference` with `bins` reference-quantile bins. */
export function populationStabilityIndex(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  bins = 10,
  epsilon = DEFAULT_PSI_EPSILON,
): number {
  const sorted = sortedFinite(reference);
  requireSize(sorted, 1, "reference sample");
  const edges = quantileEdges(sorted, bins);
  return psiOfProportions(binProportions(sorted, edges), binProportions(current, edges), epsilon);
}
