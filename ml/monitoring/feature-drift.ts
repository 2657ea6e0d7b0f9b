import {
  binProportions,
  jensenShannonDistance,
  psiOfProportions,
  quantileEdges,
} from "../drift/distribution-distance.ts";
import { kolmogorovSf } from "../drift/kolmogorov-distribution.ts";
import { ksTwoSample } from "../drift/ks-test.ts";
import { sortedFinite } from "../drift/sample.ts";
import { wassersteinDistance } from "../drift/wasserstein.ts";

/**
 * Data drift per feature, and prediction drift: the recent inputs a version scored against the
 * sample of its training values kept with the run (`reference.json`), and its recent outputs
 * against its outputs on that sample. Four measures each, as the issue asks: KS (statistic and
 * p-value), PSI and Jensen-Shannon distance over ten reference-quantile bins, and the
 * Wasserstein distance in the feature's units. A feature drifts when KS says so at `pValue`
 * and PSI passes `psi` (both: KS alone flags tiny shifts on large samples, PSI alone is noisy on
 * small ones).
 */
export interface DriftMeasure {
  readonly name: string;
  readonly ks: number;
  readonly pValue: number;
  readonly psi: number;
  readonly js: number;
  readonly wasserstein: number;
  readonly sampleSize: number;
  readonly drifted: boolean;
}

export interface DriftThresholds {
  readonly pValue: number;
  readonly psi: number;
  readonly minSample: number;
}

/**
 * Features that tell the time (the forecast's hour on the circle, the day of week): live values
 * differ from any training period by construction, so testing them reports the clock, not
 * drift. Data drift leaves them out.
 */
export const CLOCK_FEATURES: ReadonlySet<string> = new Set(["hour_sin", "hour_cos", "day_of_week"]);

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = { pValue: 0.01, psi: 0.25, minSample: 100 };

export function measureDrift(
  name: string,
  reference: ArrayLike<number>,
  recent: ArrayLike<number>,
  thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
): DriftMeasure | undefined {
  const sortedReference = sortedFinite(reference);
  const sortedRecent = sortedFinite(recent);
  if (sortedReference.length < thresholds.minSample || sortedRecent.length < thresholds.minSample)
    return undefined;
  const ks = ksTwoSample(sortedReference, sortedRecent);
  const edges = quantileEdges(sortedReference, 10);
  const p = binProportions(sortedReference, edges);
  const q = binProportions(sortedRecent, edges);
  const psi = psiOfProportions(p, q);
  return {
    name,
    ks: ks.statistic,
    pValue: ks.pValue,
    psi,
    js: jensenShannonDistance(p, q),
    wasserstein: wassersteinDistance(sortedReference, sortedRecent),
    sampleSize: sortedRecent.length,
    drifted: ks.pValue < thresholds.pValue && psi > thresholds.psi,
  };
}

/** A feature's reference as summary statistics (a feature view version's, features/statistics.ts). */
export interface StatisticsReference {
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly quantiles: {
    readonly p05: number;
    readonly p25: number;
    readonly p50: number;
    readonly p75: number;
    readonly p95: number;
  } | null;
}

const QUANTILE_LEVELS = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1] as const;

/**
 * The same four measures against a view version's statistics instead of a training sample, so a
 * model is monitored against the exact distribution of the feature view version it was trained
 * on (issue 9). The reference distribution is the piecewise-linear CDF through (min, 0),
 * (p05, 0.05), ... (p95, 0.95), (max, 1): exact at the stored quantiles, linear between them,
 * with an atom wherever quantiles coincide (a count that is always 6). KS is then a one-sample
 * test of the recent values against that CDF (p-value from the Kolmogorov distribution of the
 * recent sample's size: the reference is a summary of many rows, taken as known); PSI and JS are
 * over the six bins the quantiles cut (reference shares 5/20/25/25/20/5 %, coinciding edges
 * merged into the bin below) and two empty bins outside [min, max]; Wasserstein integrates |Q_ref(u) - Q_recent(u)| over u. Undefined
 * when the statistics lack quantiles or bounds, or either side is below the minimum sample.
 */
export function measureDriftAgainstStatistics(
  name: string,
  reference: StatisticsReference,
  recent: ArrayLike<number>,
  thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
): DriftMeasure | undefined {
  const q = reference.quantiles;
  if (!q || reference.min === null || reference.max === null) return undefined;
  const sorted = sortedFinite(recent);
  if (reference.count < thresholds.minSample || sorted.length < thresholds.minSample) return undefined;
  const xs = [reference.min, q.p05, q.p25, q.p50, q.p75, q.p95, reference.max];
  for (let k = 1; k < xs.length; k++) xs[k] = Math.max(xs[k]!, xs[k - 1]!); // monotone, whatever rounding did
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i]!;
    d = Math.max(d, (i + 1) / n - referenceCdf(xs, x, false), referenceCdf(xs, x, true) - i / n);
  }
  // bins cut at the five quantiles: (-inf, p05], (p05, p25], ..., (p95, +inf)
  const edges: number[] = [];
  const shares: number[] = [QUANTILE_LEVELS[1]];
  for (let k = 1; k <= 5; k++) {
    const share = QUANTILE_LEVELS[k + 1]! - QUANTILE_LEVELS[k]!;
    if (edges.length > 0 && xs[k]! <= edges[edges.length - 1]!) {
      // the bin just opened, (edge, xs[k]], has no width: its share is an atom at the edge, which
      // belongs to the bin at or below it; the slot goes to the bin above xs[k]
      shares[shares.length - 2]! += shares[shares.length - 1]!;
      shares[shares.length - 1] = share;
      continue;
    }
    edges.push(xs[k]!);
    shares.push(share);
  }
  // no value above p95 (max = p95): the top share is an atom at p95 too
  if (xs[6]! <= edges[edges.length - 1]!) {
    shares[shares.length - 2]! += shares[shares.length - 1]!;
    shares[shares.length - 1] = 0;
  }
  // outside [min, max] the reference held nothing: a share of 0 there (PSI's epsilon), so values
  // past the training range count even where a quantile bin would swallow them (all 6s, then 4s)
  edges.unshift(xs[0]! - Math.max(Math.abs(xs[0]!), 1) * 1e-9);
  shares.unshift(0);
  if (xs[6]! > edges[edges.length - 1]!) {
    edges.push(xs[6]!);
    shares.push(0);
  }
  const p = Float64Array.from(shares);
  const current = binProportions(sorted, Float64Array.from(edges));
  const psi = psiOfProportions(p, current);
  const steps = 512;
  let wasserstein = 0;
  for (let s = 0; s < steps; s++) {
    const u = (s + 0.5) / steps;
    wasserstein += Math.abs(referenceQuantile(xs, u) - sorted[Math.min(n - 1, Math.floor(u * n))]!) / steps;
  }
  const pValue = kolmogorovSf(d, n);
  return {
    name,
    ks: d,
    pValue,
    psi,
    js: jensenShannonDistance(p, current),
    wasserstein,
    sampleSize: n,
    drifted: pValue < thresholds.pValue && psi > thresholds.psi,
  };
}

/** the reference CDF at x (right-continuous), or its limit from the left when `left` */
function referenceCdf(xs: readonly number[], x: number, left: boolean): number {
  const below = (a: number) => (left ? a < x : a <= x);
  if (!below(xs[0]!)) return 0;
  if (below(xs[xs.length - 1]!)) return 1;
  let k = 0;
  while (k + 1 < xs.length && below(xs[k + 1]!)) k++;
  const x0 = xs[k]!;
  const x1 = xs[k + 1]!;
  const u0 = QUANTILE_LEVELS[k]!;
  const u1 = QUANTILE_LEVELS[k + 1]!;
  return x1 > x0 ? u0 + ((x - x0) / (x1 - x0)) * (u1 - u0) : u0;
}

function referenceQuantile(xs: readonly number[], u: number): number {
  let k = 0;
  while (k + 2 < QUANTILE_LEVELS.length && QUANTILE_LEVELS[k + 1]! < u) k++;
  const u0 = QUANTILE_LEVELS[k]!;
  const u1 = QUANTILE_LEVELS[k + 1]!;
  return xs[k]! + ((u - u0) / (u1 - u0)) * (xs[k + 1]! - xs[k]!);
}
