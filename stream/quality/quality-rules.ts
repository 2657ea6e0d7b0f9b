import {
  MEASUREMENT_RANGES,
  MEASUREMENTS,
  type Measurement,
  type SensorReading,
  type SensorType,
} from "../../messages/sensor-reading.ts";

/**
 * The data-quality rules as data. Stateless rules (range, cross-field) live here as tables;
 * stateful ones (completeness, timeliness, duplicates, stuck values) are configured here and run
 * by `quality-checker.ts`.
 *
 * Severity decides where a record goes, never whether it is kept:
 * - "error": the record fails quality; it is kept with its issues (quarantine) and not written
 *   to the silver layer;
 * - "warning": the record passes to silver, and the issue lowers the sensor's quality score.
 */
export type Severity = "error" | "warning";

export type RuleFamily = "range" | "cross_field" | "completeness" | "timeliness" | "uniqueness" | "stuck";

export interface QualityIssue {
  /** a stable id, e.g. `range.temperature`, `cross_field.traffic.speed_without_vehicles` */
  readonly rule: string;
  readonly family: RuleFamily;
  readonly severity: Severity;
  readonly message: string;
  readonly field?: string;
}

export interface RangeRule {
  readonly rule: string;
  readonly type: SensorType;
  readonly field: Measurement;
  readonly min: number;
  readonly max: number;
  readonly severity: Severity;
}

/**
 * Plausible ranges per type (messages/sensor-reading.ts MEASUREMENT_RANGES, which carries the
 * original design's vehicle_count 0-500, temperature -20..50, humidity 0-100, AQI 0-500).
 * Outside them a value is physically possible (the schema let it in) but not believable.
 */
export const RANGE_RULES: readonly RangeRule[] = (Object.keys(MEASUREMENTS) as SensorType[]).flatMap((type) =>
  MEASUREMENTS[type].map((field) => ({
    rule: `range.${field}`,
    type,
    field,
    min: MEASUREMENT_RANGES[field][0],
    max: MEASUREMENT_RANGES[field][1],
    severity: "error" as const,
  })),
);

export interface CrossFieldRule {
  readonly rule: string;
  readonly type: SensorType;
  readonly severity: Severity;
  /** the condition that flags the record, as documentation and for the REST API */
  readonly condition: string;
  readonly why: string;
  readonly violated: (reading: SensorReading) => boolean;
}

/** Power balance tolerance: P = V·I within 50 % or 50 W (meters integrate, readings lag). */
const POWER_TOLERANCE = { relative: 0.5, absoluteW: 50 };

export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  {
    rule: "cross_field.traffic.speed_without_vehicles",
    type: "traffic",
    severity: "warning",
    condition: "vehicle_count == 0 && avg_speed > 0",
    why: "an average speed needs at least one vehicle; the loop or the speed radar is faulty",
    violated: (r) => r.type === "traffic" && r.vehicle_count === 0 && r.avg_speed > 0,
  },
  {
    rule: "cross_field.traffic.gridlock_at_speed",
    type: "traffic",
    severity: "warning",
    condition: "vehicle_count > 400 && avg_speed > 100",
    why: "near capacity, traffic cannot flow at motorway speed on city streets",
    violated: (r) => r.type === "traffic" && r.vehicle_count > 400 && r.avg_speed > 100,
  },
  {
    rule: "cross_field.environment.saturated_but_spotless",
    type: "environment",
    severity: "warning",
    condition: "humidity == 100 && air_quality_index == 0",
    why: "both channels at their rails at once is the signature of a wet or unpowered sensor head",
    violated: (r) => r.type === "environment" && r.humidity === 100 && r.air_quality_index === 0,
  },
  {
    rule: "cross_field.utility.power_mismatch",
    type: "utility",
    severity: "warning",
    condition: "|voltage * current - consumption| > max(0.5 * |consumption|, 50)",
    why: "for a resistive household load P ≈ V·I; a large gap means a channel is miscalibrated",
    violated: (r) =>
      r.type === "utility" &&
      Math.abs(r.voltage * r.current - r.consumption) >
        Math.max(POWER_TOLERANCE.relative * Math.abs(r.consumption), POWER_TOLERANCE.absoluteW),
  },
  {
    rule: "cross_field.utility.current_without_voltage",
    type: "utility",
    severity: "error",
    condition: "voltage == 0 && current > 0",
    why: "no current flows without voltage; the reading cannot be trusted at all",
    violated: (r) => r.type === "utility" && r.voltage === 0 && r.current > 0,
  },
];

/** The stateful checks' settings; every checker takes overrides of these. */
export interface QualityConfig {
  /** a gap longer than gapFactor × the sensor's interval is reported as missing readings */
  readonly gapFactor: number;
  /** arrival at the platform (ingest or broker time) - event time beyond this is late */
  readonly maxLagMs: number;
  /** event time ahead of its arrival beyond this is a clock problem */
  readonly maxLeadMs: number;
  /** how many recent event times per sensor are remembered for duplicate detection */
  readonly duplicateMemory: number;
  /** this many identical consecutive readings in a row make a stuck sensor */
  readonly stuckAfter: number;
  /** the window the quality score is computed over */
  readonly windowMs: number;
  /** how many windows per sensor the scoreboard keeps */
  readonly windowsKept: number;
}

export const DEFAULT_QUALITY_CONFIG: QualityConfig = {
  gapFactor: 2.5,
  maxLagMs: 10_000,
  maxLeadMs: 5_000,
  duplicateMemory: 1024,
  stuckAfter: 5,
  windowMs: 60_000,
  windowsKept: 60,
};

export function rangeIssues(reading: SensorReading): QualityIssue[] {
  const issues: QualityIssue[] = [];
  const values = reading as unknown as Record<string, number>;
  for (const r of RANGE_RULES) {
    if (r.type !== reading.type) continue;
    const v = values[r.field]!;
    if (v < r.min || v > r.max) {
      issues.push({
        rule: r.rule,
        family: "range",
        severity: r.severity,
        field: r.field,
        message: `${r.field} ${v} is outside the plausible range [${r.min}, ${r.max}]`,
      });
    }
  }
  return issues;
}

export function crossFieldIssues(reading: SensorReading): QualityIssue[] {
  const issues: QualityIssue[] = [];
  for (const r of CROSS_FIELD_RULES) {
    if (r.type === reading.type && r.violated(reading)) {
      issues.push({
        rule: r.rule,
        family: "cross_field",
        severity: r.severity,
        message: `${r.condition}: ${r.why}`,
      });
    }
  }
  return issues;
}
