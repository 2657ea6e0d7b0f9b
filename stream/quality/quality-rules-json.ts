import { PHYSICAL_LIMITS } from "../../messages/sensor-reading.ts";
import {
  CROSS_FIELD_RULES,
  DEFAULT_QUALITY_CONFIG,
  type QualityConfig,
  RANGE_RULES,
} from "./quality-rules.ts";
import { QUALITY_WEIGHTS } from "./quality-score.ts";

/** The quality rules as plain JSON, for `GET /api/quality/rules` and the docs. */
export function qualityRulesAsJson(config: Partial<QualityConfig> = {}) {
  const c = { ...DEFAULT_QUALITY_CONFIG, ...config };
  return {
    version: 1,
    physical_limits: Object.fromEntries(
      Object.entries(PHYSICAL_LIMITS).map(([field, [min, max]]) => [
        field,
        { min: min ?? null, max: max ?? null },
      ]),
    ),
    physical_limits_note: "outside these a reading is dead-lettered at ingest as OUT_OF_RANGE",
    ranges: RANGE_RULES.map((r) => ({
      rule: r.rule,
      type: r.type,
      field: r.field,
      min: r.min,
      max: r.max,
      severity: r.severity,
    })),
    cross_field: CROSS_FIELD_RULES.map((r) => ({
      rule: r.rule,
      type: r.type,
      severity: r.severity,
      condition: r.condition,
      why: r.why,
    })),
    stateful: [
      {
        rule: "uniqueness.duplicate",
        severity: "error",
        condition: `same sensor_id and timestamp within the last ${c.duplicateMemory} readings`,
      },
      {
        rule: "completeness.gap",
        severity: "warning",
        condition: `gap > ${c.gapFactor} x the sensor's interval`,
      },
      {
        rule: "timeliness.late",
        severity: "warning",
        condition: `arrival time - event time > ${c.maxLagMs} ms`,
      },
      {
        rule: "timeliness.ahead",
        severity: "warning",
        condition: `event time - arrival time > ${c.maxLeadMs} ms`,
      },
      {
        rule: "stuck.repeated_values",
        severity: "warning",
        condition: `${c.stuckAfter} identical readings in a row`,
      },
    ],
    score: {
      window_ms: c.windowMs,
      weights: QUALITY_WEIGHTS,
      formula: "0.4*validity + 0.3*completeness + 0.2*timeliness + 0.1*uniqueness",
      passed: "a reading passes (goes to silver) when none of its issues has severity error",
    },
  };
}
