import { z } from "zod";
import {
  type AnomalyDetector,
  type AnomalyInput,
  asVector,
  type DetectorSnapshot,
} from "./anomaly-detector.ts";

export const robustZConfigSchema = z
  .object({
    kind: z.literal("robust-z"),
    /** Recent values kept for the median and MAD. */
    windowSize: z.number().int().min(8).max(100_000).default(120),
    /** Values seen before scoring starts (scores are 0 until then). */
    warmUp: z.number().int().min(3).default(30),
    /** Weight of a new value in the EWMA mean and variance (~ 2 / (span + 1)). */
    ewmaAlpha: z.number().gt(0).lt(1).default(0.05),
    /** z at which the score is 0.5. */
    zHalf: z.number().gt(0).default(3),
    /** Slope of the logistic mapping from z to score. */
    steepness: z.number().gt(0).default(2),
    /**
     * Floor on both spreads, in the stream's units. Set it to the sensor's resolution (e.g. 1
     * vehicle) so that a quiet, constant stream does not score 1 on its first small change.
     */
    minSpread: z.number().min(0).default(0),
  })
  .refine((c) => c.warmUp <= c.windowSize, {
    message: "warmUp must not exceed windowSize",
    path: ["warmUp"],
  });
export type RobustZConfig = z.output<typeof robustZConfigSchema>;

const MAD_TO_SIGMA = 1.4826; // MAD of a normal distribution times this is its standard deviation
const EWMA_CLIP_SIGMAS = 4;

/**
 * Robust z-score over a sliding window combined with an EWMA of mean and variance (the
 * median/MAD "modified z-score" of Iglewicz & Hoaglin 1993; EWMA variance as in RiskMetrics).
 *   zRobust = |x - median| / (1.4826 MAD)            over the last windowSize values
 *   zEwma   = |x - ewmaMean| / sqrt(ewmaVariance)
 *   z       = min(zRobust, zEwma)                     both views must find x unusual, which
 *                                                      silences alarms after a level shift as soon
 *                                                      as either view has adapted
 *   score   = 1 / (1 + exp(-steepness (z - zHalf)))  0.5 at z = zHalf (3), ~0.12 at z = 2,
 *                                                      ~0.88 at z = 4, > 0.99 at z >= 6
 * A spread of 0 (a constant stream) makes any different value z = infinity (score 1) and an
 * equal value z = 0. While learning, a value is clipped to mean +- 4 sigma before entering the
 * EWMA, so one spike cannot inflate the variance and mask the next. Scores 0 for the first
 * `warmUp` values. Cost per score: a sort of the window (O(w log w), ~3 us for w = 120).
 */
export class RobustZDetector implements AnomalyDetector {
  readonly kind = "robust-z";
  readonly dimensions = 1;
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private readonly deviations: Float64Array;
  private readonly scratch = new Float64Array(1);
  private next = 0;
  private count = 0;
  private mean = 0;
  private variance = 0;

  constructor(readonly config: RobustZConfig) {
    this.ring = new Float64Array(config.windowSize);
    this.sorted = new Float64Array(config.windowSize);
    this.deviations = new Float64Array(config.windowSize);
  }

  get warmedUp(): boolean {
    return this.count >= this.config.warmUp;
  }

  score(x: AnomalyInput): number {
    const value = asVector(x, 1, this.scratch)[0]!;
    if (!this.warmedUp) return 0;
    const ewmaSpread = Math.max(this.config.minSpread, Math.sqrt(this.variance));
    const z = Math.min(this.robustZ(value), zOf(value - this.mean, ewmaSpread));
    if (z === Number.POSITIVE_INFINITY) return 1;
    return 1 / (1 + Math.exp(-this.config.steepness * (z - this.config.zHalf)));
  }

  update(x: AnomalyInput): void {
    const value = asVector(x, 1, this.scratch)[0]!;
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.ring.length;
    this.count++;
    if (this.count === 1) {
      this.mean = value;
      this.variance = 0;
      return;
    }
    const sigma = Math.sqrt(this.variance);
    const limit = EWMA_CLIP_SIGMAS * sigma;
    const learned =
      this.warmedUp && sigma > 0 ? Math.min(this.mean + limit, Math.max(this.mean - limit, value)) : value;
    const alpha = this.count < this.config.warmUp ? 1 / this.count : this.config.ewmaAlpha;
    const delta = learned - this.mean;
    this.mean += alpha * delta;
    this.variance = (1 - alpha) * (this.variance + alpha * delta * delta);
  }

  snapshot(): DetectorSnapshot {
    const held = Math.min(this.count, this.ring.length);
    const start = this.count < this.ring.length ? 0 : this.next;
    const window = Array.from({ length: held }, (_, i) => this.ring[(start + i) % this.ring.length]!);
    const { kind: _kind, ...config } = this.config;
    return {
      kind: this.kind,
      config,
      state: { window, count: this.count, mean: this.mean, variance: this.variance },
    };
  }

  /** Continues from a snapshot's state (validated by the factory). */
  restoreState(state: { window: number[]; count: number; mean: number; variance: number }): void {
    const held = state.window.slice(-this.ring.length);
    this.ring.fill(0);
    this.ring.set(held);
    this.next = held.length % this.ring.length;
    this.count = state.count;
    this.mean = state.mean;
    this.variance = state.variance;
  }

  private robustZ(value: number): number {
    const n = Math.min(this.count, this.ring.length);
    const sorted = this.sorted.subarray(0, n);
    sorted.set(this.ring.subarray(0, n));
    sorted.sort();
    const median = medianOfSorted(sorted);
    const deviations = this.deviations.subarray(0, n);
    for (let i = 0; i < n; i++) deviations[i] = Math.abs(sorted[i]! - median);
    deviations.sort();
    return zOf(value - median, Math.max(this.config.minSpread, MAD_TO_SIGMA * medianOfSorted(deviations)));
  }
}

function zOf(difference: number, spread: number): number {
  if (spread > 0) return Math.abs(difference) / spread;
  return difference === 0 ? 0 : Number.POSITIVE_INFINITY;
}

function medianOfSorted(sorted: Float64Array): number {
  const n = sorted.length;
  const middle = n >>> 1;
  return n % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
