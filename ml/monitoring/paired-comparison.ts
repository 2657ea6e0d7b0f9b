/**
 * Is the challenger not worse than the champion on live labels? In shadow both versions score
 * the same inputs, so each labelled outcome gives a pair of absolute errors and their difference
 * d = |e_challenger| - |e_champion|. A one-sided non-inferiority test on the mean difference
 * (normal approximation, valid at the sample sizes the loop waits for):
 *   not worse  when the upper bound  mean(d) + z * sd(d)/sqrt(n) <  margin
 *   worse      when the lower bound  mean(d) - z * sd(d)/sqrt(n) >  margin
 * with the margin a fraction of the champion's MAE; anything else needs more outcomes, and
 * past `maxOutcomes` without a verdict the challenger is not shown to be not worse.
 */
export interface PairedComparisonOptions {
  /** tolerated loss as a fraction of the champion's MAE (0.02: at most 2% worse) */
  readonly margin: number;
  readonly minOutcomes: number;
  readonly maxOutcomes: number;
  /** one-sided z quantile; 1.645 for 95% */
  readonly z?: number;
  /**
   * the error of one outcome: |prediction - actual| (default), or, for a classifier whose
   * prediction is P(1) and actual 0/1, its log loss. Absolute error is not a proper score for a
   * probability: it rewards pushing p to 0 or 1, so a calibrated challenger could lose to an
   * overconfident champion; log loss is minimised by the true probability. (The verdict's
   * `championMae` / `challengerMae` are then mean log losses.)
   */
  readonly score?: "absolute-error" | "log-loss";
}

export type ComparisonVerdict =
  | { readonly verdict: "pending"; readonly outcomes: number }
  | {
      readonly verdict: "not-worse" | "worse" | "inconclusive";
      readonly outcomes: number;
      readonly championMae: number;
      readonly challengerMae: number;
      readonly meanDifference: number;
      readonly bound: number;
    };

export class PairedComparison {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private championSum = 0;
  private challengerSum = 0;

  private readonly error: (prediction: number, actual: number) => number;

  constructor(private readonly options: PairedComparisonOptions) {
    this.error = options.score === "log-loss" ? logLoss : (p, actual) => Math.abs(p - actual);
  }

  observe(championPrediction: number, challengerPrediction: number, actual: number): void {
    const champion = this.error(championPrediction, actual);
    const challenger = this.error(challengerPrediction, actual);
    if (!Number.isFinite(champion) || !Number.isFinite(challenger)) return;
    this.n++;
    this.championSum += champion;
    this.challengerSum += challenger;
    const d = challenger - champion;
    const delta = d - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (d - this.mean);
  }

  verdict(): ComparisonVerdict {
    if (this.n < this.options.minOutcomes) return { verdict: "pending", outcomes: this.n };
    const z = this.options.z ?? 1.645;
    const sd = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0;
    const half = (z * sd) / Math.sqrt(this.n);
    const championMae = this.championSum / this.n;
    const margin = this.options.margin * championMae;
    const base = {
      outcomes: this.n,
      championMae,
      challengerMae: this.challengerSum / this.n,
      meanDifference: this.mean,
    };
    if (this.mean + half < margin) return { verdict: "not-worse", ...base, bound: this.mean + half };
    if (this.mean - half > margin) return { verdict: "worse", ...base, bound: this.mean - half };
    if (this.n >= this.options.maxOutcomes)
      return { verdict: "inconclusive", ...base, bound: this.mean + half };
    return { verdict: "pending", outcomes: this.n };
  }
}

/** p clipped to [1e-15, 1 - 1e-15] as scikit-learn's log_loss clips it; NaN for a label not 0/1 */
function logLoss(p: number, actual: number): number {
  const clipped = Math.min(1 - 1e-15, Math.max(1e-15, p));
  if (actual === 1) return -Math.log(clipped);
  if (actual === 0) return -Math.log(1 - clipped);
  return Number.NaN;
}
