import type { Aggregator, MomentStatistic } from "./aggregator.ts";

/**
 * Count, sum, mean, min, max and variance in one pass, mergeable.
 *
 * Welford's online update (Welford 1962, "Note on a method for calculating corrected sums of
 * squares and products") keeps the running mean and M2 = sum of squared deviations; two
 * partial states combine with the pairwise formula of Chan, Golub and LeVeque (1979):
 *   n = na + nb, d = mean_b - mean_a, mean = mean_a + d * nb / n, M2 = M2a + M2b + d^2 na nb / n.
 * The window operator keeps the same state in typed-array columns (`moment-columns.ts`); this
 * object form is the public Aggregator for custom compositions and for checking the columns.
 */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
  sum: number;
  min: number;
  max: number;
}

export function createMoments(): Moments {
  return { n: 0, mean: 0, m2: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
}

export function addToMoments(m: Moments, x: number): Moments {
  m.n += 1;
  const delta = x - m.mean;
  m.mean += delta / m.n;
  m.m2 += delta * (x - m.mean);
  m.sum += x;
  if (x < m.min) m.min = x;
  if (x > m.max) m.max = x;
  return m;
}

export function mergeMoments(into: Moments, other: Moments): Moments {
  if (other.n === 0) return into;
  if (into.n === 0) {
    Object.assign(into, other);
    return into;
  }
  const n = into.n + other.n;
  const delta = other.mean - into.mean;
  into.mean += (delta * other.n) / n;
  into.m2 += other.m2 + (delta * delta * into.n * other.n) / n;
  into.n = n;
  into.sum += other.sum;
  if (other.min < into.min) into.min = other.min;
  if (other.max > into.max) into.max = other.max;
  return into;
}

/** One statistic of a moments state; empty states give null where a number has no meaning. */
export function momentStatistic(
  statistic: MomentStatistic,
  n: number,
  mean: number,
  m2: number,
  sum: number,
  min: number,
  max: number,
): number | null {
  switch (statistic) {
    case "count":
      return n;
    case "sum":
      return sum;
    case "mean":
      return n === 0 ? null : mean;
    case "min":
      return n === 0 ? null : min;
    case "max":
      return n === 0 ? null : max;
    case "variance":
      return n === 0 ? null : n === 1 ? 0 : m2 / (n - 1);
    case "stddev":
      return n === 0 ? null : n === 1 ? 0 : Math.sqrt(m2 / (n - 1));
  }
}

/** A built-in statistic as a standalone Aggregator (e.g. to compose custom aggregators). */
export function momentAggregator(statistic: MomentStatistic): Aggregator<Moments, number | null> {
  return {
    create: createMoments,
    add: addToMoments,
    merge: mergeMoments,
    result: (m) => momentStatistic(statistic, m.n, m.mean, m.m2, m.sum, m.min, m.max),
  };
}
