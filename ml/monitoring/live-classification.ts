import { rocAuc } from "../tree/classification-metrics.ts";

/**
 * A served classifier's live quality once labels arrive, in bounded memory: precision, recall,
 * F1 at the decision threshold and ROC AUC, over the version's whole service and over its most
 * recent outcomes (the figures /metrics shows: a change shows there first).
 *
 * The whole-service AUC comes from two fixed histograms of the predicted probability, one per
 * class (`bins` buckets over [0, 1]): the Mann-Whitney count over buckets, pairs in one bucket
 * counted half, as a tie is. Its error is at most the share of positive-negative pairs that fall
 * in one bucket, small with a few hundred buckets; memory stays 2 x bins numbers however long the
 * version serves. The recent window keeps the outcomes themselves, so its AUC is exact.
 */
export interface LiveClassificationSnapshot {
  readonly outcomes: number;
  readonly positives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** NaN until both classes were seen */
  readonly auc: number;
  readonly recentCount: number;
  readonly recentPrecision: number;
  readonly recentRecall: number;
  readonly recentF1: number;
  readonly recentAuc: number;
}

export interface LiveClassificationOptions {
  readonly threshold?: number;
  readonly window?: number;
  readonly bins?: number;
}

export class LiveClassification {
  private readonly threshold: number;
  private readonly positiveBins: Float64Array;
  private readonly negativeBins: Float64Array;
  private readonly confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  private readonly recentScores: Float64Array;
  private readonly recentLabels: Uint8Array;
  private recentNext = 0;
  private recentCount = 0;

  constructor(options: LiveClassificationOptions = {}) {
    this.threshold = options.threshold ?? 0.5;
    const bins = options.bins ?? 1000;
    this.positiveBins = new Float64Array(bins);
    this.negativeBins = new Float64Array(bins);
    const window = options.window ?? 500;
    this.recentScores = new Float64Array(window);
    this.recentLabels = new Uint8Array(window);
  }

  /** One labelled outcome: the predicted P(1) and the actual class; false when it is not one. */
  observe(probability: number, actual: number): boolean {
    if (!(probability >= 0 && probability <= 1) || (actual !== 0 && actual !== 1)) return false;
    const predicted = probability >= this.threshold;
    if (predicted && actual === 1) this.confusion.tp++;
    else if (predicted) this.confusion.fp++;
    else if (actual === 1) this.confusion.fn++;
    else this.confusion.tn++;
    const bins = this.positiveBins.length;
    const bin = Math.min(bins - 1, Math.floor(probability * bins));
    (actual === 1 ? this.positiveBins : this.negativeBins)[bin]! += 1;
    this.recentScores[this.recentNext] = probability;
    this.recentLabels[this.recentNext] = actual;
    this.recentNext = (this.recentNext + 1) % this.recentScores.length;
    this.recentCount = Math.min(this.recentCount + 1, this.recentScores.length);
    return true;
  }

  snapshot(): LiveClassificationSnapshot {
    const whole = rates(this.confusion);
    const recent = { tp: 0, fp: 0, fn: 0, tn: 0 };
    const scores = this.recentScores.subarray(0, this.recentCount);
    const labels = this.recentLabels.subarray(0, this.recentCount);
    for (let i = 0; i < this.recentCount; i++) {
      const predicted = scores[i]! >= this.threshold;
      if (predicted && labels[i] === 1) recent.tp++;
      else if (predicted) recent.fp++;
      else if (labels[i] === 1) recent.fn++;
      else recent.tn++;
    }
    const windowed = rates(recent);
    const { tp, fp, fn, tn } = this.confusion;
    return {
      outcomes: tp + fp + fn + tn,
      positives: tp + fn,
      ...whole,
      auc: this.histogramAuc(),
      recentCount: this.recentCount,
      recentPrecision: windowed.precision,
      recentRecall: windowed.recall,
      recentF1: windowed.f1,
      recentAuc: this.recentCount > 0 ? rocAuc(labels, scores) : Number.NaN,
    };
  }

  private histogramAuc(): number {
    let negativesBelow = 0;
    let pairs = 0;
    let positives = 0;
    for (let b = 0; b < this.positiveBins.length; b++) {
      const p = this.positiveBins[b]!;
      const n = this.negativeBins[b]!;
      pairs += p * (negativesBelow + n / 2);
      negativesBelow += n;
      positives += p;
    }
    if (positives === 0 || negativesBelow === 0) return Number.NaN;
    return pairs / (positives * negativesBelow);
  }
}

function rates(c: { tp: number; fp: number; fn: number }): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  return {
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
  };
}
