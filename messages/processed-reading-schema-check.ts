import { isFiniteNumber, isPlainRecord } from "./parsed-json-shape.ts";
import { SENSOR_TYPES } from "./sensor-reading.ts";

/**
 * The silver and quarantine subjects' write check for the shape the sensor actors emit: what the
 * registered JSON Schema of `ProcessedReading` (messages/platform-schemas.ts) asserts, written out,
 * so the serde does not walk the generic validator's closures for every processed reading on the
 * main thread (2.7 % of it at 20k readings/s in helper E's profile).
 *
 * It differs from `isProcessedReading` (messages/processed-reading-check.ts), which is held to zod:
 * the JSON Schema is closed (`additionalProperties: false` on the reading, its issues and its
 * enrichment) where zod strips unknown keys, and an own key holding `undefined` fails the schema
 * (its type check sees `undefined`) where zod takes it for absent.
 *
 * It never decides a refusal: `true` only for a value the schema accepts, `false` for "not sure,
 * ask the schema", which stays the judge and the author of every SCHEMA_VIOLATION's pointer. For
 * plain objects its verdict is the schema's; anything else (another prototype) goes to the schema.
 * `test/messages/processed-reading-schema-check.test.ts` holds it to the compiled schema.
 */
export function passesProcessedReadingSchema(value: unknown): boolean {
  if (!isPlainRecord(value)) return false;
  // one pass over the keys: an unknown key, or a known one holding a wrong value (undefined
  // included), is not sure; every required key must have been seen
  let required = 0;
  for (const key in value) {
    const field = value[key];
    switch (key) {
      case "sensor_id":
        if (typeof field !== "string") return false;
        required++;
        break;
      case "type":
        if (!SENSOR_TYPES.includes(field as (typeof SENSOR_TYPES)[number])) return false;
        required++;
        break;
      case "event_time":
        if (!isFiniteNumber(field)) return false;
        required++;
        break;
      case "values":
        if (!isMeasurements(field)) return false;
        required++;
        break;
      case "passed":
        if (typeof field !== "boolean") return false;
        required++;
        break;
      case "quality_score":
      case "anomaly_score":
        if (!isFiniteNumber(field) || field < 0 || field > 1) return false;
        required++;
        break;
      case "issues":
        if (!areIssues(field)) return false;
        required++;
        break;
      case "partition":
      case "offset":
        if (!Number.isSafeInteger(field)) return false;
        required++;
        break;
      case "history":
        if (!Number.isSafeInteger(field) || (field as number) < 0) return false;
        break;
      case "enrichment":
        if (field !== null && !isEnrichment(field)) return false;
        break;
      default:
        return false;
    }
  }
  return required === REQUIRED_KEYS;
}

/** sensor_id, type, event_time, values, passed, quality_score, issues, anomaly_score, partition, offset */
const REQUIRED_KEYS = 10;

const SEVERITIES: readonly string[] = ["info", "warning", "error"];

function areIssues(issues: unknown): boolean {
  if (!Array.isArray(issues)) return false;
  for (let i = 0; i < issues.length; i++) {
    // a hole reads as undefined, which the schema's item check refuses too
    if (!isIssue(issues[i])) return false;
  }
  return true;
}

function isIssue(issue: unknown): boolean {
  if (!isPlainRecord(issue)) return false;
  let seen = 0;
  for (const key in issue) {
    const field = issue[key];
    switch (key) {
      case "rule":
      case "family":
      case "message":
        if (typeof field !== "string") return false;
        break;
      case "severity":
        if (!SEVERITIES.includes(field as string)) return false;
        break;
      default:
        return false;
    }
    seen++;
  }
  return seen === 4;
}

function isEnrichment(enrichment: unknown): boolean {
  if (!isPlainRecord(enrichment)) return false;
  let seen = 0;
  for (const key in enrichment) {
    if ((key !== "district" && key !== "zone") || typeof enrichment[key] !== "string") return false;
    seen++;
  }
  return seen === 2;
}

function isMeasurements(values: unknown): boolean {
  // the schema's additionalProperties walks the enumerable string keys, as this loop does
  if (!isPlainRecord(values)) return false;
  for (const key in values) if (!isFiniteNumber(values[key])) return false;
  return true;
}
