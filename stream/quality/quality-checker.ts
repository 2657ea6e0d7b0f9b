import { MEASUREMENTS, type SensorReading, type SensorType } from "../../messages/sensor-reading.ts";
import {
  crossFieldIssues,
  DEFAULT_QUALITY_CONFIG,
  type QualityConfig,
  type QualityIssue,
  rangeIssues,
} from "./quality-rules.ts";
import { RecentEventTimes } from "./recent-event-times.ts";

/**
 * The quality checks of one sensor stream, run on every reading by that sensor's actor:
 * range and cross-field rules (stateless tables in quality-rules.ts), then the stateful ones:
 * - uniqueness: the same event time seen again within the bounded memory is a duplicate;
 * - completeness: a gap of more than gapFactor × interval since the latest event time;
 * - timeliness: the time the platform received the reading (ingest or broker time) minus its
 *   event time beyond maxLagMs (or ahead beyond maxLeadMs). Not the time a processor got to it:
 *   a lagging processor is an operations signal (consumer lag), not a defect of the data;
 * - stuck: `stuckAfter` consecutive readings with identical measurements.
 * A reading passes when none of its issues has severity "error".
 */
export interface SensorSpec {
  readonly sensor_id: string;
  readonly type: SensorType;
  /** the expected interval between readings, ms */
  readonly intervalMs: number;
}

export interface QualityResult {
  readonly passed: boolean;
  readonly issues: QualityIssue[];
  readonly eventTime: number;
  /** readings estimated missing in the gap before this one (completeness) */
  readonly missingBefore: number;
}

export interface QualityCheckerSnapshot {
  readonly version: 1;
  readonly sensor: SensorSpec;
  readonly latestEventTime: number | undefined;
  readonly recentEventTimes: number[];
  readonly lastValues: number[] | undefined;
  readonly repeats: number;
}

export class QualityChecker {
  private readonly config: QualityConfig;
  private latestEventTime: number | undefined;
  private recent: RecentEventTimes;
  private lastValues: number[] | undefined;
  private repeats = 0;

  constructor(
    readonly sensor: SensorSpec,
    config: Partial<QualityConfig> = {},
  ) {
    this.config = { ...DEFAULT_QUALITY_CONFIG, ...config };
    this.recent = new RecentEventTimes(this.config.duplicateMemory);
  }

  check(reading: SensorReading, receivedAt: number): QualityResult {
    const eventTime = Date.parse(reading.timestamp);
    const issues = [...rangeIssues(reading), ...crossFieldIssues(reading)];

    if (this.recent.seenBefore(eventTime)) {
      issues.push({
        rule: "uniqueness.duplicate",
        family: "uniqueness",
        severity: "error",
        message: `a reading of ${reading.sensor_id} at ${reading.timestamp} was already seen`,
      });
      // a duplicate says nothing new about gaps or stuck values
      return { passed: false, issues, eventTime, missingBefore: 0 };
    }

    let missingBefore = 0;
    const interval = this.sensor.intervalMs;
    if (
      this.latestEventTime !== undefined &&
      eventTime - this.latestEventTime > this.config.gapFactor * interval
    ) {
      missingBefore = Math.round((eventTime - this.latestEventTime) / interval) - 1;
      issues.push({
        rule: "completeness.gap",
        family: "completeness",
        severity: "warning",
        message: `about ${missingBefore} readings missing in the ${eventTime - this.latestEventTime} ms before this one`,
      });
    }
    if (this.latestEventTime === undefined || eventTime > this.latestEventTime)
      this.latestEventTime = eventTime;

    const lag = receivedAt - eventTime;
    if (lag > this.config.maxLagMs) {
      issues.push({
        rule: "timeliness.late",
        family: "timeliness",
        severity: "warning",
        message: `arrived ${lag} ms after its event time (limit ${this.config.maxLagMs} ms)`,
      });
    } else if (-lag > this.config.maxLeadMs) {
      issues.push({
        rule: "timeliness.ahead",
        family: "timeliness",
        severity: "warning",
        message: `event time is ${-lag} ms ahead of its arrival (limit ${this.config.maxLeadMs} ms)`,
      });
    }

    const values = MEASUREMENTS[reading.type].map((f) => (reading as unknown as Record<string, number>)[f]!);
    const same = this.lastValues !== undefined && values.every((v, i) => v === this.lastValues![i]);
    this.repeats = same ? this.repeats + 1 : 0;
    this.lastValues = values;
    if (this.repeats + 1 >= this.config.stuckAfter) {
      issues.push({
        rule: "stuck.repeated_values",
        family: "stuck",
        severity: "warning",
        message: `the same values ${this.repeats + 1} readings in a row`,
      });
    }

    return { passed: !issues.some((i) => i.severity === "error"), issues, eventTime, missingBefore };
  }

  snapshot(): QualityCheckerSnapshot {
    return {
      version: 1,
      sensor: this.sensor,
      latestEventTime: this.latestEventTime,
      recentEventTimes: this.recent.toArray(),
      lastValues: this.lastValues,
      repeats: this.repeats,
    };
  }

  static restore(snapshot: QualityCheckerSnapshot, config: Partial<QualityConfig> = {}): QualityChecker {
    const checker = new QualityChecker(snapshot.sensor, config);
    checker.latestEventTime = snapshot.latestEventTime;
    checker.recent = RecentEventTimes.from(snapshot.recentEventTimes, checker.config.duplicateMemory);
    checker.lastValues = snapshot.lastValues;
    checker.repeats = snapshot.repeats;
    return checker;
  }
}
