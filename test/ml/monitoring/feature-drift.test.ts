import { describe, expect, test } from "bun:test";
import {
  measureDrift,
  measureDriftAgainstStatistics,
  type StatisticsReference,
} from "../../../ml/monitoring/feature-drift.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

/**
 * Drift against a feature view version's statistics (count, bounds, quantiles) instead of a
 * training sample: the same measures, and the same verdicts on the same data.
 */
function normal(n: number, mean: number, sd: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: n }, () => mean + sd * random.nextGaussian());
}

/** what features/statistics.ts stores for a sample (quantile_cont = linear interpolation) */
function statisticsOf(values: readonly number[]): StatisticsReference {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const position = p * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(sorted.length - 1, low + 1);
    return sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
  };
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted.at(-1)!,
    quantiles: { p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) },
  };
}

describe("drift against a view version's statistics", () => {
  const training = normal(20_000, 50, 10, 1);
  const reference = statisticsOf(training);

  test.each([
    ["the same distribution", 0, 1, false],
    ["a shift of one standard deviation", 10, 1, true],
    ["a shift of two standard deviations", 20, 1, true],
    ["a doubled spread", 0, 2, true],
  ])("%s: drifted = %p, as the sample-based measure says", (_name, shift, spread, drifted) => {
    const recent = normal(2000, 50 + shift, 10 * spread, 7);
    const byStatistics = measureDriftAgainstStatistics("x", reference, recent)!;
    const bySample = measureDrift("x", training, recent)!;
    expect(byStatistics.drifted).toBe(drifted);
    expect(bySample.drifted).toBe(drifted);
    // the summary loses little: the statistics agree with the full sample's
    expect(Math.abs(byStatistics.ks - bySample.ks)).toBeLessThan(0.03);
    // (the tails beyond p05 and p95 are linear in the summary: the distance is close, not equal)
    expect(Math.abs(byStatistics.wasserstein - bySample.wasserstein)).toBeLessThan(
      1 + 0.15 * bySample.wasserstein,
    );
    expect(byStatistics.sampleSize).toBe(2000);
  });

  test("a feature with an atom (a count that is always 6) is stable on 6s and drifts on 4s", () => {
    const sixes: StatisticsReference = {
      count: 1000,
      min: 5,
      max: 6,
      quantiles: { p05: 6, p25: 6, p50: 6, p75: 6, p95: 6 },
    };
    const same = measureDriftAgainstStatistics("reading_count", sixes, Array(500).fill(6))!;
    expect(same.psi).toBeLessThan(0.1);
    expect(same.drifted).toBe(false);
    const fewer = measureDriftAgainstStatistics("reading_count", sixes, Array(500).fill(4))!;
    expect(fewer.drifted).toBe(true);
    expect(fewer.wasserstein).toBeGreaterThan(1.5);
  });

  test.each([
    ["no quantiles (a view of strings)", { ...reference, quantiles: null }],
    ["no bounds", { ...reference, min: null }],
    ["a reference of too few rows", { ...reference, count: 10 }],
  ])("%s gives no measure: the caller falls back to the training sample", (_name, stats) => {
    expect(measureDriftAgainstStatistics("x", stats, normal(500, 50, 10, 3))).toBeUndefined();
  });

  test("too few recent values give no measure yet", () => {
    expect(measureDriftAgainstStatistics("x", reference, normal(50, 50, 10, 3))).toBeUndefined();
  });
});
