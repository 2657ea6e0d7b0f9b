/**
 * Event-time watermarks per input partition, combined for the operator.
 *
 * Model: Flink's "bounded out-of-orderness" generator per source split, and its idleness
 * handling (FLIP-27 `withIdleness`, FLINK-5479 "per-partition watermarks ... stall when a
 * partition is idle").
 * - A partition's watermark is (max event time seen on it) - maxOutOfOrdernessMs: it promises
 *   that records of that partition older than this are late.
 * - The operator watermark is the minimum over ACTIVE partitions that have sent a record, and
 *   never goes back (a partition that rejoins behind it cannot move it backwards; its old
 *   records are then judged late by the window rules).
 * - A partition with no records for idleTimeoutMs of processing time is idle: it stops holding
 *   the watermark back. Its next record makes it active again.
 * - When every partition is idle, nothing holds event time back: the watermark moves to the
 *   highest partition watermark, so the last windows of a quiet stream still close (a
 *   partition that wakes up behind it has its old records judged late).
 */
export interface PartitionWatermark {
  readonly partition: number;
  readonly maxEventTime: number;
  readonly watermark: number;
  readonly idle: boolean;
  readonly lastRecordAt: number;
}

export class PartitionWatermarks {
  private readonly maxOutOfOrdernessMs: number;
  private readonly idleTimeoutMs: number;
  private maxEventTime: (number | undefined)[] = [];
  private lastRecordAt: number[] = [];
  private idle: boolean[] = [];
  private seen: number[] = [];
  private combined = Number.NEGATIVE_INFINITY;

  /** with `idleOnlyWhileInputFlows`: when the last record from any partition */
  private lastInputAt = Number.NEGATIVE_INFINITY;
  private readonly idleOnlyWhileInputFlows: boolean;

  /**
   * `idleOnlyWhileInputFlows`: a partition goes idle only while other partitions still send.
   * In a stall of the whole input (a broker restart) nothing goes idle, and when records resume
   * every partition's idle clock starts again; otherwise the stall makes every partition idle
   * and the first ones to deliver their backlog carry the watermark past the others' backlog,
   * which is then late (a pitfall of Flink's idleness). The cost: an input that goes entirely
   * quiet keeps its watermark until records resume.
   */
  constructor(
    maxOutOfOrdernessMs: number,
    idleTimeoutMs: number,
    options: { idleOnlyWhileInputFlows?: boolean } = {},
  ) {
    this.maxOutOfOrdernessMs = maxOutOfOrdernessMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.idleOnlyWhileInputFlows = options.idleOnlyWhileInputFlows ?? false;
  }

  /** The operator watermark; -Infinity until a partition has sent a record. */
  get current(): number {
    return this.combined;
  }

  /**
   * Records one valid event on a partition at processing time `now`. Returns true when the
   * operator watermark moved forward.
   */
  observe(partition: number, eventTime: number, now: number): boolean {
    if (this.idleOnlyWhileInputFlows) {
      if (now - this.lastInputAt >= this.idleTimeoutMs) this.restartIdleClocks(now);
      this.lastInputAt = now;
    }
    const max = this.maxEventTime[partition];
    if (max === undefined) {
      this.maxEventTime[partition] = eventTime;
      this.lastRecordAt[partition] = now;
      this.idle[partition] = false;
      this.seen.push(partition);
      return this.recompute();
    }
    this.lastRecordAt[partition] = now;
    if (this.idle[partition]) {
      this.idle[partition] = false;
      if (eventTime > max) this.maxEventTime[partition] = eventTime;
      return this.recompute();
    }
    if (eventTime <= max) return false;
    this.maxEventTime[partition] = eventTime;
    // only a partition at the bottom can lift the minimum
    if (max - this.maxOutOfOrdernessMs <= this.combined) return this.recompute();
    return false;
  }

  /**
   * A partition this operator reads from now on but that has sent nothing yet (just assigned,
   * or about to be replayed): it holds the watermark back until its first record or until it is
   * idle, as a Flink split does from its start, so an input that has not been read yet cannot
   * have its windows closed by the others.
   */
  expect(partition: number, now: number): void {
    if (this.maxEventTime[partition] !== undefined) return;
    this.maxEventTime[partition] = Number.NEGATIVE_INFINITY;
    this.lastRecordAt[partition] = now;
    this.idle[partition] = false;
    this.seen.push(partition);
  }

  /** A partition no longer read here (moved to another member): it stops holding anything back. */
  forget(partition: number): boolean {
    if (this.maxEventTime[partition] === undefined) return false;
    this.maxEventTime[partition] = undefined;
    this.seen = this.seen.filter((p) => p !== partition);
    return this.recompute();
  }

  /** every partition counts as having just sent (idle ones hold again, nothing moves back) */
  private restartIdleClocks(now: number): void {
    for (const partition of this.seen) {
      this.lastRecordAt[partition] = now;
      this.idle[partition] = false;
    }
  }

  /** Marks partitions idle after idleTimeoutMs without records. True when the watermark moved. */
  checkIdle(now: number): boolean {
    if (this.idleOnlyWhileInputFlows && now - this.lastInputAt >= this.idleTimeoutMs) return false;
    let changed = false;
    for (const partition of this.seen) {
      if (!this.idle[partition] && now - this.lastRecordAt[partition]! >= this.idleTimeoutMs) {
        this.idle[partition] = true;
        changed = true;
      }
    }
    return changed ? this.recompute() : false;
  }

  /** Lifts the watermark to at least `watermark` (a punctuation from upstream, or end of input). */
  advanceTo(watermark: number): boolean {
    if (watermark <= this.combined) return false;
    this.combined = watermark;
    return true;
  }

  partitions(): PartitionWatermark[] {
    return this.seen
      .slice()
      .sort((a, b) => a - b)
      .map((partition) => ({
        partition,
        maxEventTime: this.maxEventTime[partition]!,
        watermark: this.maxEventTime[partition]! - this.maxOutOfOrdernessMs,
        idle: this.idle[partition]!,
        lastRecordAt: this.lastRecordAt[partition]!,
      }));
  }

  /** Rebuilds state from a snapshot's `partitions()` and watermark. */
  restore(partitions: readonly PartitionWatermark[], watermark: number): void {
    this.maxEventTime = [];
    this.lastRecordAt = [];
    this.idle = [];
    this.seen = [];
    for (const p of partitions) {
      this.maxEventTime[p.partition] = p.maxEventTime;
      this.lastRecordAt[p.partition] = p.lastRecordAt;
      this.idle[p.partition] = p.idle;
      this.seen.push(p.partition);
    }
    this.combined = watermark;
  }

  private recompute(): boolean {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const partition of this.seen) {
      const watermark = this.maxEventTime[partition]! - this.maxOutOfOrdernessMs;
      if (watermark > max) max = watermark;
      if (!this.idle[partition] && watermark < min) min = watermark;
    }
    if (min === Number.POSITIVE_INFINITY) min = max; // all idle
    if (min <= this.combined) return false;
    this.combined = min;
    return true;
  }
}
