import type { ChangeDetector } from "./change-detector.ts";

export interface PageHinkleyOptions {
  /** values seen before a change can be reported */
  readonly minInstances?: number;
  /** the magnitude of change tolerated */
  readonly delta?: number;
  /** lambda: how far the cumulative deviation may run before it is a change */
  readonly threshold?: number;
  /** forgetting factor of the cumulative sums */
  readonly alpha?: number;
  readonly mode?: "up" | "down" | "both";
}

/**
 * The Page-Hinkley test (Page 1954), a CUSUM of each value's deviation from the running mean:
 * the increase sum m_t = alpha m_{t-1} + (x_t - mean_t - delta) against its minimum, and the
 * decrease sum against its maximum; a change when either gap passes the threshold. Defaults and
 * arithmetic follow River's drift.PageHinkley, including its start of the decrease maximum at -1.
 */
export class PageHinkley implements ChangeDetector {
  readonly kind = "page-hinkley";
  readonly warning = false;
  private readonly minInstances: number;
  private readonly delta: number;
  private readonly threshold: number;
  private readonly alpha: number;
  private readonly mode: "up" | "down" | "both";
  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Number.POSITIVE_INFINITY;
  private maxDecrease = -1;
  private detectedLast = false;

  constructor(options: PageHinkleyOptions = {}) {
    this.minInstances = options.minInstances ?? 30;
    this.delta = options.delta ?? 0.005;
    this.threshold = options.threshold ?? 50;
    this.alpha = options.alpha ?? 1 - 0.0001;
    this.mode = options.mode ?? "both";
  }

  update(value: number): boolean {
    if (this.detectedLast) this.reset();
    this.n += 1;
    this.mean += (1 / this.n) * (value - this.mean);
    const deviation = value - this.mean;
    this.sumIncrease = this.alpha * this.sumIncrease + deviation - this.delta;
    this.sumDecrease = this.alpha * this.sumDecrease + deviation + this.delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;
    if (this.n >= this.minInstances) {
      const up = this.sumIncrease - this.minIncrease > this.threshold;
      const down = this.maxDecrease - this.sumDecrease > this.threshold;
      this.detectedLast = this.mode === "up" ? up : this.mode === "down" ? down : up || down;
    }
    return this.detectedLast;
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Number.POSITIVE_INFINITY;
    this.maxDecrease = -1;
    this.detectedLast = false;
  }
}
