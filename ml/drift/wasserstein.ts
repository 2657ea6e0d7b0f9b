import { requireSize, sortedFinite } from "./sample.ts";

/**
 * The first Wasserstein (earth mover's) distance between two samples on the line: the area
 * between their empirical distribution functions, integral |F_u(x) - F_v(x)| dx, as
 * scipy.stats.wasserstein_distance(u, v). In the values' units: how far, on average, mass must
 * move to turn one sample into the other, so a shift of the mean by 3 is 3 whatever the shape.
 * Non-finite values are dropped; an empty sample is SAMPLE_TOO_SMALL.
 */
export function wassersteinDistance(first: ArrayLike<number>, second: ArrayLike<number>): number {
  const u = sortedFinite(first);
  const v = sortedFinite(second);
  requireSize(u, 1, "first sample");
  requireSize(v, 1, "second sample");
  let i = 0;
  let j = 0;
  let previous = Math.min(u[0]!, v[0]!);
  let area = 0;
  // walk the merged values; between two consecutive ones both CDFs are constant
  while (i < u.length || j < v.length) {
    const next = j >= v.length || (i < u.length && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    area += Math.abs(i / u.length - j / v.length) * (next - previous);
    while (i < u.length && u[i] === next) i++;
    while (j < v.length && v[j] === next) j++;
    previous = next;
  }
  return area;
}
