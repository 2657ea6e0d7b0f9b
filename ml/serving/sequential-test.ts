/**
 * The A/B experiment's stopping rule: a mixture sequential probability ratio test (mSPRT;
 * Robbins 1970, as used for always-valid A/B inference by Johari, Pekelis & Walsh 2017,
 * "Always valid inference"). The statistic for the difference of two arms' mean errors,
 * with a normal mixture of variance tau^2 over the effect,
 *   Lambda_n = sqrt(V / (V + tau^2)) * exp(tau^2 * d^2 / (2 V (V + tau^2))),  V = s_A^2/n_A + s_B^2/n_B,
 * may be checked after every outcome: stopping the first time Lambda_n >= 1/alpha keeps the
 * false-positive rate at alpha however often one looks, which a t-test checked repeatedly does
 * not. tau is set from the data's scale (the pooled standard deviation), so the test has no unit.
 */
export interface ArmStatistics {
  count: number;
  mean: number;
  /** sum of squared deviations (Welford) */
  m2: number;
}

export function emptyArm(): ArmStatistics {
  return { count: 0, mean: 0, m2: 0 };
}

/** Welford's update with one outcome (an absolute error, or 0/1 for a classifier's mistake). */
export function observe(arm: ArmStatistics, value: number): void {
  arm.count += 1;
  const delta = value - arm.mean;
  arm.mean += delta / arm.count;
  arm.m2 += delta * (value - arm.mean);
}

export type SequentialDecision =
  | { readonly decided: false; readonly likelihoodRatio: number }
  | {
      readonly decided: true;
      /** index of the arm with the lower error; undefined when the limit was reached without a difference */
      readonly winner: number | undefined;
      readonly likelihoodRatio: number;
      readonly reason: string;
    };

export function decide(
  arms: readonly ArmStatistics[],
  options: { readonly alpha: number; readonly minSamples: number; readonly maxSamples: number },
): SequentialDecision {
  // several arms: each against the first (the champion), Bonferroni-corrected
  const challengers = arms.length - 1;
  const threshold = challengers / options.alpha;
  const base = arms[0]!;
  let best: { index: number; ratio: number } | undefined;
  let largest = 0;
  for (let i = 1; i < arms.length; i++) {
    const arm = arms[i]!;
    if (base.count < options.minSamples || arm.count < options.minSamples) continue;
    const ratio = mixtureRatio(base, arm);
    largest = Math.max(largest, ratio);
    if (ratio >= threshold && (!best || ratio > best.ratio)) best = { index: i, ratio };
  }
  if (best) {
    const arm = arms[best.index]!;
    const winner = arm.mean < base.mean ? best.index : 0;
    return {
      decided: true,
      winner,
      likelihoodRatio: best.ratio,
      reason: `mSPRT: arm ${best.index} mean error ${arm.mean.toPrecision(4)} vs ${base.mean.toPrecision(4)}, ratio ${best.ratio.toPrecision(4)} >= ${threshold}`,
    };
  }
  if (arms.every((arm) => arm.count >= options.maxSamples)) {
    return {
      decided: true,
      winner: undefined,
      likelihoodRatio: largest,
      reason: `no difference after ${options.maxSamples} outcomes per arm`,
    };
  }
  return { decided: false, likelihoodRatio: largest };
}

function mixtureRatio(a: ArmStatistics, b: ArmStatistics): number {
  const varianceA = a.count > 1 ? a.m2 / (a.count - 1) : 0;
  const varianceB = b.count > 1 ? b.m2 / (b.count - 1) : 0;
  const v = varianceA / a.count + varianceB / b.count;
  const difference = b.mean - a.mean;
  if (v <= 0) return difference === 0 ? 0 : Number.POSITIVE_INFINITY;
  const pooled = (a.m2 + b.m2) / Math.max(1, a.count + b.count - 2);
  const tau2 = Math.max(pooled, Number.MIN_VALUE);
  return Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * difference * difference) / (2 * v * (v + tau2)));
}
