import type { SensorType } from "../../messages/sensor-reading.ts";
import type { SensorSpec } from "./quality-checker.ts";
import type { QualityIssue } from "./quality-rules.ts";

/**
 * The quality score of a stream over an event-time window (tumbling, `windowMs`):
 *
 *   score = 0.4 · validity + 0.3 · completeness + 0.2 · timeliness + 0.1 · uniqueness
 *
 *   validity     = readings without range or cross-field issues / readings received
 *   completeness = min(1, distinct readings received / readings expected),
 *                  expected = windowMs / intervalMs per sensor
 *   timeliness   = readings without timeliness issues / readings received
 *   uniqueness   = distinct readings / readings received (duplicates count in received only)
 *
 * A window with no reading has validity, timeliness and uniqueness 1 (nothing wrong was seen)
 * and completeness 0, so a silent sensor scores 0.7 at most and falls with the others.
 * Weights follow the common data-quality dimensions (validity, completeness, timeliness,
 * uniqueness; DAMA DMBOK) with validity first because invalid values reach models directly.
 * Per type and per window the counts are summed over sensors first, then the formula is applied,
 * so a large type is not averaged away by a small one.
 */
export const QUALITY_WEIGHTS = {
  validity: 0.4,
  completeness: 0.3,
  timeliness: 0.2,
  uniqueness: 0.1,
} as const;

export interface QualityCounts {
  received: number;
  distinct: number;
  valid: number;
  onTime: number;
  expected: number;
}

export interface QualityScore extends QualityCounts {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly validity: number;
  readonly completeness: number;
  readonly timeliness: number;
  readonly uniqueness: number;
  readonly score: number;
}

export function scoreOf(counts: QualityCounts, windowStart: number, windowMs: number): QualityScore {
  const ratio = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);
  const validity = ratio(counts.valid, counts.received);
  const completeness = counts.expected === 0 ? 1 : Math.min(1, counts.distinct / counts.expected);
  const timeliness = ratio(counts.onTime, counts.received);
  const uniqueness = ratio(counts.distinct, counts.received);
  const score =
    QUALITY_WEIGHTS.validity * validity +
    QUALITY_WEIGHTS.completeness * completeness +
    QUALITY_WEIGHTS.timeliness * timeliness +
    QUALITY_WEIGHTS.uniqueness * uniqueness;
  return {
    ...counts,
    windowStart,
    windowEnd: windowStart + windowMs,
    validity,
    completeness,
    timeliness,
    uniqueness,
    score: Math.round(score * 1e6) / 1e6,
  };
}

export interface QualityScoreboardSnapshot {
  readonly version: 1;
  readonly windowMs: number;
  readonly windowsKept: number;
  readonly sensors: { spec: SensorSpec; windows: [number, QualityCounts][] }[];
  readonly ruleCounts: [string, number][];
}

interface SensorWindows {
  readonly spec: SensorSpec;
  readonly windows: Map<number, QualityCounts>;
}

/** Per sensor, per type and per window quality scores, from the checkers' results. */
export class QualityScoreboard {
  private readonly sensors = new Map<string, SensorWindows>();
  private readonly rules = new Map<string, number>();

  constructor(
    readonly windowMs = 60_000,
    readonly windowsKept = 60,
  ) {}

  record(spec: SensorSpec, eventTime: number, issues: readonly QualityIssue[]): void {
    let entry = this.sensors.get(spec.sensor_id);
    if (!entry) {
      entry = { spec, windows: new Map() };
      this.sensors.set(spec.sensor_id, entry);
    }
    const start = this.windowStart(eventTime);
    let counts = entry.windows.get(start);
    if (!counts) {
      counts = { received: 0, distinct: 0, valid: 0, onTime: 0, expected: this.windowMs / spec.intervalMs };
      entry.windows.set(start, counts);
      this.evictOld(entry);
    }
    counts.received++;
    // one pass over the issues, most readings have none (the live view records every processed
    // reading on the main thread: three searches with their closures were ~1.5-2.5 % of it)
    let duplicate = false;
    let invalid = false;
    let late = false;
    for (let n = 0; n < issues.length; n++) {
      const issue = issues[n]!;
      const family = issue.family;
      if (family === "uniqueness") duplicate = true;
      else if (family === "range" || family === "cross_field") invalid = true;
      else if (family === "timeliness") late = true;
      this.rules.set(issue.rule, (this.rules.get(issue.rule) ?? 0) + 1);
    }
    if (!duplicate) counts.distinct++;
    if (!invalid) counts.valid++;
    if (!late) counts.onTime++;
  }

  /** drops a sensor's windows (its read model evicted it); the rule counts keep its issues */
  forget(sensorId: string): void {
    this.sensors.delete(sensorId);
  }

  /** sensors with windows held */
  get sensorCount(): number {
    return this.sensors.size;
  }

  windowStart(eventTime: number): number {
    return Math.floor(eventTime / this.windowMs) * this.windowMs;
  }

  /** the sensor's score in one window (default: its latest), or undefined if never seen */
  sensor(sensorId: string, windowStart?: number): QualityScore | undefined {
    const entry = this.sensors.get(sensorId);
    if (!entry || entry.windows.size === 0) return undefined;
    const start = windowStart ?? Math.max(...entry.windows.keys());
    return scoreOf(entry.windows.get(start) ?? this.emptyCounts(entry.spec), start, this.windowMs);
  }

  /** all sensors of a type in one window; sensors silent in it count as expected, not received */
  type(type: SensorType, windowStart: number): QualityScore {
    return this.aggregate((e) => e.spec.type === type, windowStart);
  }

  /** every known sensor in one window */
  window(windowStart: number): QualityScore {
    return this.aggregate(() => true, windowStart);
  }

  /** the window starts held for any sensor, ascending */
  windowStarts(): number[] {
    const starts = new Set<number>();
    for (const e of this.sensors.values()) for (const s of e.windows.keys()) starts.add(s);
    return [...starts].sort((a, b) => a - b);
  }

  /** how often each rule fired since start (for metrics and the REST API) */
  ruleCounts(): Record<string, number> {
    return Object.fromEntries(this.rules);
  }

  snapshot(): QualityScoreboardSnapshot {
    return {
      version: 1,
      windowMs: this.windowMs,
      windowsKept: this.windowsKept,
      sensors: [...this.sensors.values()].map((e) => ({
        spec: e.spec,
        windows: [...e.windows].map(([s, c]) => [s, { ...c }] as [number, QualityCounts]),
      })),
      ruleCounts: [...this.rules],
    };
  }

  static restore(snapshot: QualityScoreboardSnapshot): QualityScoreboard {
    const board = new QualityScoreboard(snapshot.windowMs, snapshot.windowsKept);
    for (const s of snapshot.sensors) {
      board.sensors.set(s.spec.sensor_id, {
        spec: s.spec,
        windows: new Map(s.windows.map(([start, c]) => [start, { ...c }])),
      });
    }
    for (const [rule, n] of snapshot.ruleCounts) board.rules.set(rule, n);
    return board;
  }

  private aggregate(include: (e: SensorWindows) => boolean, windowStart: number): QualityScore {
    const total: QualityCounts = { received: 0, distinct: 0, valid: 0, onTime: 0, expected: 0 };
    for (const e of this.sensors.values()) {
      if (!include(e)) continue;
      const c = e.windows.get(windowStart) ?? this.emptyCounts(e.spec);
      total.received += c.received;
      total.distinct += c.distinct;
      total.valid += c.valid;
      total.onTime += c.onTime;
      total.expected += c.expected;
    }
    return scoreOf(total, windowStart, this.windowMs);
  }

  private emptyCounts(spec: SensorSpec): QualityCounts {
    return { received: 0, distinct: 0, valid: 0, onTime: 0, expected: this.windowMs / spec.intervalMs };
  }

  private evictOld(entry: SensorWindows): void {
    if (entry.windows.size <= this.windowsKept) return;
    const oldest = [...entry.windows.keys()].sort((a, b) => a - b);
    for (const s of oldest.slice(0, entry.windows.size - this.windowsKept)) entry.windows.delete(s);
  }
}
