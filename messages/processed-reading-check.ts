import { isFiniteNumber, isPlainRecord } from "./parsed-json-shape.ts";
import type { ProcessedReading, QualityIssue } from "./processed-reading.ts";
import { SENSOR_TYPES } from "./sensor-reading.ts";

/**
 * The processed reading schema's fast path for the sinks that read silver and quarantine
 * records (the lake's silver tables, the time-series store): the checks `ProcessedReading`
 * (zod) makes, written out for the shape the sensor actors emit, so each sink does not pay
 * zod's generic object walk per record (~8 % of the lake sinks' main-thread samples).
 *
 * It never decides a rejection: `true` only for a value zod accepts, `false` for "not sure, ask
 * zod", which stays the one judge of what is invalid and the author of every refusal's reason.
 * A value it accepts may still carry keys zod would strip; its readers take the known fields
 * only. `test/messages/processed-reading-check.test.ts` holds it to that against zod.
 */
export function isProcessedReading(value: unknown): value is ProcessedReading {
  if (!isPlainRecord(value)) return false;
  const { values, issues, history, enrichment } = value;
  return (
    typeof value.sensor_id === "string" &&
    SENSOR_TYPES.includes(value.type as ProcessedReading["type"]) &&
    isFiniteNumber(value.event_time) &&
    typeof value.passed === "boolean" &&
    isScore(value.quality_score) &&
    isScore(value.anomaly_score) &&
    Number.isSafeInteger(value.partition) &&
    Number.isSafeInteger(value.offset) &&
    (history === undefined || (Number.isSafeInteger(history) && (history as number) >= 0)) &&
    (enrichment === undefined ||
      enrichment === null ||
      (isPlainRecord(enrichment) &&
        typeof enrichment.district === "string" &&
        typeof enrichment.zone === "string")) &&
    isMeasurements(values) &&
    Array.isArray(issues) &&
    issues.every(isIssue)
  );
}

const SEVERITIES: readonly QualityIssue["severity"][] = ["info", "warning", "error"];

function isIssue(issue: unknown): boolean {
  return (
    isPlainRecord(issue) &&
    typeof issue.rule === "string" &&
    typeof issue.family === "string" &&
    SEVERITIES.includes(issue.severity as QualityIssue["severity"]) &&
    typeof issue.message === "string"
  );
}

function isMeasurements(values: unknown): boolean {
  // symbol keys are left to zod (JSON never makes them)
  if (!isPlainRecord(values) || Object.getOwnPropertySymbols(values).length > 0) return false;
  for (const key in values) if (!isFiniteNumber(values[key])) return false;
  return true;
}

function isScore(value: unknown): boolean {
  return isFiniteNumber(value) && value >= 0 && value <= 1;
}
