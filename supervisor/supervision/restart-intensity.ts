/**
 * OTP restart intensity (OTP Design Principles, "Supervisor Behaviour", restart intensity and
 * period): if more than `intensity` restarts happen within `periodMs`, the supervisor gives up.
 * Keeps the timestamps of the restarts still inside the period, plus a lifetime total.
 */
export class RestartIntensity {
  private stamps: number[] = [];
  total = 0;

  constructor(
    private readonly intensity: number,
    private readonly periodMs: number,
  ) {}

  /** records a restart at `now`; returns how many restarts are inside the period, this one included */
  record(now: number): number {
    this.prune(now);
    this.stamps.push(now);
    this.total++;
    return this.stamps.length;
  }

  /** true when `count` restarts within the period is more than allowed */
  exceeded(count: number): boolean {
    return count > this.intensity;
  }

  /** restarts inside the period ending at `now` */
  recent(now: number): number {
    this.prune(now);
    return this.stamps.length;
  }

  reset(): void {
    this.stamps = [];
  }

  private prune(now: number): void {
    const horizon = now - this.periodMs;
    let drop = 0;
    while (drop < this.stamps.length && this.stamps[drop]! <= horizon) drop++;
    if (drop > 0) this.stamps.splice(0, drop);
  }
}
