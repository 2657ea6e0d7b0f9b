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
 * - With `lagOf` (the owner reads a log and knows how far behind each partition's end it is,
 *   Kafka Streams' `max.task.idle.ms`, KIP-695): silence alone is not idleness. A partition is
 *   idle only when it is read to its end (lag known and 0) and has stayed so, with no record,
 *   for idleTimeoutMs. A partition with unread records on the log, or whose lag is not known,
 *   holds event time back however long its records take to come (a busy broker, a backlog after
 *   a restart): correctness over liveness. An idle partition whose lag rises again (records were
 *   appended to it) holds again from that moment, before any of those records is observed.
 *   The log is not the whole input, though: readings held upstream while the log was away (a
 *   broker restart: ingest holds its MQTT acks) reach it only after it is back, one partition
 *   before another. So when records come again after the whole input was silent for
 *   idleTimeoutMs, every partition holds again, and goes idle only after another timeout read
 *   to its end: the first partition back cannot carry event time past readings still on their
 *   way to the others.
 *   Without `lagOf` (an operator that sees records but not the log, like the window operator),
 *   silence is all it can judge by, and a partition read late can be passed by the others.
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

export interface PartitionWatermarksOptions {
  /**
   * How far the reader is behind the end of a partition (the log consumer's `currentLag`);
   * undefined when not known. Given, only a partition read to its end can go idle.
   */
  readonly lagOf?: (partition: number) => number | undefined;
  /**
   * A partition goes idle only while other partitions still send. In a stall of the whole input
   * (a broker restart) nothing goes idle, and when records resume every partition's idle clock
   * starts again; otherwise the stall makes every partition idle and the first ones to deliver
   * their backlog carry the watermark past the others' backlog, which is then late (a pitfall of
   * Flink's idleness). The cost: an input that goes entirely quiet keeps its watermark until
   * records resume. `lagOf` avoids the pitfall without that cost (a partition with a backlog is
   * never idle, and every partition holds again when input resumes after a stall, while its
   * quiet partitions still go idle during it), so a reader that knows its lag does not need this.
   */
  readonly idleOnlyWhileInputFlows?: boolean;
}

export class PartitionWatermarks {
  private readonly maxOutOfOrdernessMs: number;
  private readonly idleTimeoutMs: number;
  private maxEventTime: (number | undefined)[] = [];
  private lastRecordAt: number[] = [];
  private idle: boolean[] = [];
  /** with `lagOf`: since when the partition has been seen read to its end, without a break */
  private caughtUpSince: (number | undefined)[] = [];
  private readonly lagOf: ((partition: number) => number | undefined) | undefined;
  private seen: number[] = [];
  private combined = Number.NEGATIVE_INFINITY;

  /** with `idleOnlyWhileInputFlows` or `lagOf`: when the last record from any partition */
  private lastInputAt = Number.NEGATIVE_INFINITY;
  private readonly idleOnlyWhileInputFlows: boolean;

  constructor(maxOutOfOrdernessMs: number, idleTimeoutMs: number, options: PartitionWatermarksOptions = {}) {
    this.maxOutOfOrdernessMs = maxOutOfOrdernessMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.idleOnlyWhileInputFlows = options.idleOnlyWhileInputFlows ?? false;
    this.lagOf = options.lagOf;
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
    if (this.idleOnlyWhileInputFlows || this.lagOf !== undefined) {
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
    this.caughtUpSince[partition] = undefined;
    this.seen = this.seen.filter((p) => p !== partition);
    return this.recompute();
  }

  /** every partition counts as having just sent (idle ones hold again, nothing moves back) */
  private restartIdleClocks(now: number): void {
    for (const partition of this.seen) {
      this.lastRecordAt[partition] = now;
      this.idle[partition] = false;
      this.caughtUpSince[partition] = undefined;
    }
  }

  /**
   * Marks partitions idle after idleTimeoutMs without records (and, with `lagOf`, read to their
   * end all that time); with `lagOf`, an idle partition that is behind again holds again. True
   * when the watermark moved.
   */
  checkIdle(now: number): boolean {
    if (this.idleOnlyWhileInputFlows && now - this.lastInputAt >= this.idleTimeoutMs) return false;
    let changed = false;
    for (const partition of this.seen) {
      let quietSince = this.lastRecordAt[partition]!;
      if (this.lagOf !== undefined) {
        if (this.lagOf(partition) !== 0) {
          this.caughtUpSince[partition] = undefined;
          this.idle[partition] = false;
          continue;
        }
        this.caughtUpSince[partition] ??= now;
        quietSince = Math.max(quietSince, this.caughtUpSince[partition]!);
      }
      if (!this.idle[partition] && now - quietSince >= this.idleTimeoutMs) {
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
    this.caughtUpSince = [];
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
    this.wakeThoseBehind();
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

  /**
   * With `lagOf`: an idle partition with records on the log again holds event time from now,
   * before any of them is observed (the records of another partition in the same fetch must not
   * carry the watermark past them).
   */
  private wakeThoseBehind(): void {
    if (this.lagOf === undefined) return;
    for (const partition of this.seen) {
      if (this.idle[partition] && this.lagOf(partition) !== 0) {
        this.idle[partition] = false;
        this.caughtUpSince[partition] = undefined;
      }
    }
  }
}
