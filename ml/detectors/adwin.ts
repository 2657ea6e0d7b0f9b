import type { ChangeDetector } from "./change-detector.ts";

export interface AdwinOptions {
  /** confidence of a cut: smaller means fewer, surer detections */
  readonly delta?: number;
  /** check for a cut every `clock` values (checking at each one costs O(log W) a value) */
  readonly clock?: number;
  /** summaries kept per row before two of them merge into the next row (M in the paper) */
  readonly maxBuckets?: number;
  /** the fewest values on either side of a cut */
  readonly minWindowLength?: number;
  /** no cut is tried before the window holds this many values */
  readonly gracePeriod?: number;
}

/**
 * ADWIN (Bifet & Gavaldà 2007, "Learning from time-changing data with adaptive windowing"),
 * ADWIN2's exponential histogram: row i holds up to maxBuckets + 1 summaries (sum, variance) of
 * 2^i values each; when a row overflows, its two oldest summaries merge into one of the next row
 * (the variance of the merge by Chan et al.'s pairwise formula). Every `clock` values every
 * boundary between summaries is tried as a cut between an older part W0 and a newer W1; when
 * |mean(W0) - mean(W1)| passes the Bernstein-style bound
 *   eps = sqrt(2 m v / W ln(2 ln W / delta)) + 2/3 ln(2 ln W / delta) m,  m = 1/(n0-l+1) + 1/(n1-l+1)
 * the oldest summary is dropped and the scan starts again, until no cut passes. The defaults and
 * the order of the arithmetic are River's (drift.ADWIN), so both detect at the same indices.
 */
export class Adwin implements ChangeDetector {
  readonly kind = "adwin";
  readonly warning = false;
  private readonly delta: number;
  private readonly clock: number;
  private readonly maxBuckets: number;
  private readonly minWindowLength: number;
  private readonly gracePeriod: number;
  private rows: Row[] = [];
  private total = 0;
  private variance = 0;
  private width = 0;
  private tick = 0;
  private detectedLast = false;
  detections = 0;

  constructor(options: AdwinOptions = {}) {
    this.delta = options.delta ?? 0.002;
    this.clock = options.clock ?? 32;
    this.maxBuckets = options.maxBuckets ?? 5;
    this.minWindowLength = options.minWindowLength ?? 5;
    this.gracePeriod = options.gracePeriod ?? 10;
    this.reset();
  }

  /** values in the window */
  get size(): number {
    return this.width;
  }

  get mean(): number {
    return this.width > 0 ? this.total / this.width : 0;
  }

  update(value: number): boolean {
    if (this.detectedLast) this.reset();
    this.insert(value);
    this.detectedLast = this.detectChange();
    if (this.detectedLast) this.detections++;
    return this.detectedLast;
  }

  private reset(): void {
    this.rows = [new Row(this.maxBuckets)];
    this.total = 0;
    this.variance = 0;
    this.width = 0;
    this.tick = 0;
    this.detectedLast = false;
  }

  private insert(value: number): void {
    this.rows[0]!.push(value, 0);
    this.width += 1;
    let increment = 0;
    if (this.width > 1) {
      const deviation = value - this.total / (this.width - 1);
      increment = ((this.width - 1) * deviation * deviation) / this.width;
    }
    this.variance += increment;
    this.total += value;
    this.compress();
  }

  private compress(): void {
    for (let i = 0; this.rows[i]!.count === this.maxBuckets + 1; i++) {
      const row = this.rows[i]!;
      const size = 2 ** i;
      const mean0 = row.totals[0]! / size;
      const mean1 = row.totals[1]! / size;
      const mergedTotal = row.totals[0]! + row.totals[1]!;
      const mergedVariance =
        row.variances[0]! + row.variances[1]! + size * 0.5 * (mean0 - mean1) * (mean0 - mean1);
      if (i + 1 === this.rows.length) this.rows.push(new Row(this.maxBuckets));
      const next = this.rows[i + 1]!;
      next.push(mergedTotal, mergedVariance);
      row.dropOldest(2);
      if (next.count <= this.maxBuckets) break;
    }
  }

  /** drops the oldest summary (the last row's first) */
  private dropOldest(): void {
    const last = this.rows.length - 1;
    const row = this.rows[last]!;
    const n = 2 ** last;
    const sum = row.totals[0]!;
    const variance = row.variances[0]!;
    const mean = sum / n;
    this.width -= n;
    this.total -= sum;
    const windowMean = this.total / this.width;
    this.variance -=
      variance + (n * this.width * (mean - windowMean) * (mean - windowMean)) / (n + this.width);
    row.dropOldest(1);
    if (row.count === 0) this.rows.pop();
  }

  private detectChange(): boolean {
    let detected = false;
    this.tick++;
    if (this.tick % this.clock !== 0 || this.width <= this.gracePeriod) return false;
    let cut = true;
    while (cut) {
      cut = false;
      let n0 = 0;
      let n1 = this.width;
      let u0 = 0;
      let u1 = this.total;
      // from the oldest summary to the newest; the last boundary (all in W0) is not a cut
      scan: for (let i = this.rows.length - 1; i >= 0; i--) {
        const row = this.rows[i]!;
        const size = 2 ** i;
        for (let k = 0; k < row.count; k++) {
          n0 += size;
          n1 -= size;
          u0 += row.totals[k]!;
          u1 -= row.totals[k]!;
          if (i === 0 && k === row.count - 1) break scan;
          const meanDifference = u0 / n0 - u1 / n1;
          if (n1 >= this.minWindowLength && n0 >= this.minWindowLength && this.cuts(n0, n1, meanDifference)) {
            cut = true;
            detected = true;
            if (this.width > 0) {
              this.dropOldest();
              break scan;
            }
          }
        }
      }
    }
    return detected;
  }

  private cuts(n0: number, n1: number, meanDifference: number): boolean {
    const deltaPrime = Math.log((2 * Math.log(this.width)) / this.delta);
    const m = 1 / (n0 - this.minWindowLength + 1) + 1 / (n1 - this.minWindowLength + 1);
    const epsilon = Math.sqrt(2 * m * (this.variance / this.width) * deltaPrime) + (2 / 3) * deltaPrime * m;
    return Math.abs(meanDifference) > epsilon;
  }
}

/** One row of the histogram: up to maxBuckets + 1 summaries of 2^row values, oldest first. */
class Row {
  readonly totals: Float64Array;
  readonly variances: Float64Array;
  count = 0;

  constructor(maxBuckets: number) {
    this.totals = new Float64Array(maxBuckets + 1);
    this.variances = new Float64Array(maxBuckets + 1);
  }

  push(total: number, variance: number): void {
    this.totals[this.count] = total;
    this.variances[this.count] = variance;
    this.count++;
  }

  dropOldest(n: number): void {
    this.totals.copyWithin(0, n, this.count);
    this.variances.copyWithin(0, n, this.count);
    this.totals.fill(0, this.count - n, this.count);
    this.variances.fill(0, this.count - n, this.count);
    this.count -= n;
  }
}
