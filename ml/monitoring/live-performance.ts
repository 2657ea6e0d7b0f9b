import { Adwin } from "../detectors/adwin.ts";
import { PageHinkley } from "../detectors/page-hinkley.ts";

/**
 * A served version's live error, once labels arrive: totals since it started serving, a window
 * of the most recent absolute errors (MAE and RMSE over it), and two change detectors over the
 * absolute-error stream: ADWIN (a change in the mean, two-sided) and Page-Hinkley (up only: the
 * error got worse). A detection is concept drift: the inputs may look the same while the
 * relation the model learnt no longer holds.
 */
export interface LivePerformanceSnapshot {
  readonly outcomes: number;
  readonly mae: number;
  readonly rmse: number;
  readonly recentMae: number;
  readonly recentRmse: number;
  readonly recentCount: number;
  readonly errorDriftDetections: number;
  readonly lastDetectionAt: number | undefined;
}

export class LivePerformance {
  private outcomes = 0;
  private absoluteSum = 0;
  private squaredSum = 0;
  private readonly recent: Float64Array;
  private recentNext = 0;
  private recentCount = 0;
  private readonly adwin = new Adwin({ delta: 0.002 });
  private readonly pageHinkley: PageHinkley;
  private detections = 0;
  private lastDetectionAt: number | undefined;

  constructor(options: { readonly window?: number; readonly errorScale?: number } = {}) {
    this.recent = new Float64Array(options.window ?? 500);
    // Page-Hinkley's delta and threshold are in the error's units
    const scale = options.errorScale ?? 1;
    // (an error that rises by half its usual size for ~100 outcomes; noise of its usual size does not)
    this.pageHinkley = new PageHinkley({ mode: "up", delta: 0.1 * scale, threshold: 50 * scale });
  }

  /** One labelled outcome; true when it made a detector flag a change in the error. */
  observe(predicted: number, actual: number, at: number): boolean {
    const error = Math.abs(predicted - actual);
    if (!Number.isFinite(error)) return false;
    this.outcomes++;
    this.absoluteSum += error;
    this.squaredSum += error * error;
    this.recent[this.recentNext] = error;
    this.recentNext = (this.recentNext + 1) % this.recent.length;
    this.recentCount = Math.min(this.recentCount + 1, this.recent.length);
    const adwin = this.adwin.update(error);
    const pageHinkley = this.pageHinkley.update(error);
    if (adwin || pageHinkley) {
      this.detections++;
      this.lastDetectionAt = at;
      return true;
    }
    return false;
  }

  /**
   * How the recent error compares with the version's error over its whole service: 1 is as
   * usual, 1.5 is half as large again. Undefined until there are `minOutcomes` outcomes and a
   * recent window of at least a tenth of them, so a version's first labels do not page anyone.
   */
  errorRatio(minOutcomes = 100): number | undefined {
    const snapshot = this.snapshot();
    if (snapshot.outcomes < minOutcomes || snapshot.recentCount < minOutcomes / 10 || snapshot.mae <= 0)
      return undefined;
    return snapshot.recentMae / snapshot.mae;
  }

  snapshot(): LivePerformanceSnapshot {
    let absolute = 0;
    let squared = 0;
    for (let i = 0; i < this.recentCount; i++) {
      absolute += this.recent[i]!;
      squared += this.recent[i]! ** 2;
    }
    const n = Math.max(1, this.recentCount);
    const total = Math.max(1, this.outcomes);
    return {
      outcomes: this.outcomes,
      mae: this.absoluteSum / total,
      rmse: Math.sqrt(this.squaredSum / total),
      recentMae: absolute / n,
      recentRmse: Math.sqrt(squared / n),
      recentCount: this.recentCount,
      errorDriftDetections: this.detections,
      lastDetectionAt: this.lastDetectionAt,
    };
  }
}
