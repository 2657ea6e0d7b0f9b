import type { ChangeDetector } from "./change-detector.ts";

export interface DdmOptions {
  /** values seen before a warning or change can be reported */
  readonly warmStart?: number;
  readonly warningThreshold?: number;
  readonly driftThreshold?: number;
}

/**
 * DDM, the drift detection method (Gama et al. 2004, "Learning with drift detection"), for a
 * stream of 0/1 (1 = the model was wrong). The error rate p and its binomial deviation
 * s = sqrt(p (1 - p) / n) are tracked; the lowest p + s seen is the reference; p + s above
 * p_min + 2 s_min is a warning, above p_min + 3 s_min a change. River's drift.binary.DDM's
 * defaults and order of checks.
 */
export class Ddm implements ChangeDetector {
  readonly kind = "ddm";
  private readonly warmStart: number;
  private readonly warningThreshold: number;
  private readonly driftThreshold: number;
  private n = 0;
  private p = 0;
  private pMin = 0;
  private sMin = 0;
  private psMin = Number.POSITIVE_INFINITY;
  private detectedLast = false;
  warning = false;

  constructor(options: DdmOptions = {}) {
    this.warmStart = options.warmStart ?? 30;
    this.warningThreshold = options.warningThreshold ?? 2;
    this.driftThreshold = options.driftThreshold ?? 3;
  }

  update(value: number): boolean {
    if (this.detectedLast) this.reset();
    this.n += 1;
    this.p += (1 / this.n) * (value - this.p);
    const s = Math.sqrt((this.p * (1 - this.p)) / this.n);
    if (this.n > this.warmStart) {
      if (this.p + s <= this.psMin) {
        this.pMin = this.p;
        this.sMin = s;
        this.psMin = this.pMin + this.sMin;
      }
      this.warning = this.p + s > this.pMin + this.warningThreshold * this.sMin;
      if (this.p + s > this.pMin + this.driftThreshold * this.sMin) {
        this.detectedLast = true;
        this.warning = false;
      }
    }
    return this.detectedLast;
  }

  private reset(): void {
    this.n = 0;
    this.p = 0;
    this.pMin = 0;
    this.sMin = 0;
    this.psMin = Number.POSITIVE_INFINITY;
    this.detectedLast = false;
    this.warning = false;
  }
}
