import { kolmogorovSf } from "./kolmogorov-distribution.ts";
import { requireSize, sortedFinite } from "./sample.ts";

export interface KsResult {
  /** D = sup_x |F1(x) - F2(x)|, in [0, 1]. */
  readonly statistic: number;
  /** Two-sided p-value of "both samples come from one distribution". */
  readonly pValue: number;
  readonly sizes: readonly [number, number];
}

/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, with scipy.stats.ks_2samp(method="asymp")'s
 * p-value: P(D_n > d) under the one-sample Kolmogorov distribution with n = round(n1 n2 / (n1 + n2))
 * (the exact finite-n distribution, not only the limiting one; see kolmogorov-distribution.ts).
 * Like numpy's round, a half rounds to even (2.5 -> 2), and n = 0 (one value in each sample)
 * has no p-value: NaN, never 0, so no caller reads "drifted" into a single pair of values.
 * Non-finite values are dropped first. Either sample empty is a SAMPLE_TOO_SMALL error.
 */
export function ksTwoSample(first: ArrayLike<number>, second: ArrayLike<number>): KsResult {
  const a = sortedFinite(first);
  const b = sortedFinite(second);
  requireSize(a, 1, "first sample");
  requireSize(b, 1, "second sample");
  return ksTwoSampleSorted(a, b);
}

/** The same test on samples already sorted and finite (the drift detector sorts its reference once). */
export function ksTwoSampleSorted(a: Float64Array, b: Float64Array): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let statistic = 0;
  while (i < n1 && j < n2) {
    // Step past every copy of the smaller current value in both samples, so ties count once.
    const x = Math.min(a[i]!, b[j]!);
    while (i < n1 && a[i]! <= x) i++;
    while (j < n2 && b[j]! <= x) j++;
    const gap = Math.abs(i / n1 - j / n2);
    if (gap > statistic) statistic = gap;
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const effective = roundHalfToEven((m * n) / (m + n));
  const pValue = effective >= 1 ? kolmogorovSf(statistic, effective) : Number.NaN;
  return { statistic, pValue, sizes: [n1, n2] };
}

/** numpy.round: to the nearest integer, a tie to the even one (Math.round sends ties up). */
export function roundHalfToEven(x: number): number {
  const up = Math.round(x);
  return up - x === 0.5 && up % 2 !== 0 ? up - 1 : up;
}
