import type { LogRecord } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { ProcessedReading } from "../../messages/processed-reading.ts";
import { isProcessedReading } from "../../messages/processed-reading-check.ts";
import { MEASUREMENT_RANGES, type Measurement } from "../../messages/sensor-reading.ts";
import { Topics } from "../../messages/topics.ts";
import type { DeltaField } from "../delta/schema.ts";
import { column, type LakeTable, utcDate } from "./lake-table.ts";

/**
 * Silver: readings the sensor actors checked and the registry join enriched, one column per
 * measurement (null where the type has none), so analysts aggregate with plain SQL. The passed
 * ones are `silver_sensor_readings`; the failed ones, with their issues, `silver_quarantine`.
 *
 * A reading's id is its position in city.sensors.raw (`<partition>@<offset>`): a node that
 * crashed re-emits the readings it had processed since its last checkpoint, with the same id.
 */
export const MEASUREMENT_COLUMNS = Object.keys(MEASUREMENT_RANGES) as Measurement[];

const readingColumns: DeltaField[] = [
  column("reading_id", "string", false),
  column("sensor_id", "string", false),
  column("event_time", "timestamp", false),
  ...MEASUREMENT_COLUMNS.map((m) => column(m, "double")),
  column("quality_score", "double", false),
  column("anomaly_score", "double", false),
  column("district", "string"),
  column("zone", "string"),
  column("source_partition", "integer", false),
  column("source_offset", "long", false),
  column("date", "date", false),
  column("type", "string", false),
];

function readingRow(value: unknown, passed: boolean): Record<string, unknown> {
  const r = isProcessedReading(value) ? value : checkedByZod(value);
  if (r.passed !== passed) {
    throw new PlatformError(
      ErrorCodes.SCHEMA_VIOLATION,
      `a reading that ${r.passed ? "passed" : "failed"} its checks does not belong in ${passed ? "silver" : "quarantine"}`,
    );
  }
  const row: Record<string, unknown> = {
    reading_id: `${r.partition}@${r.offset}`,
    sensor_id: r.sensor_id,
    event_time: r.event_time,
    quality_score: r.quality_score,
    anomaly_score: r.anomaly_score,
    district: r.enrichment?.district ?? null,
    zone: r.enrichment?.zone ?? null,
    source_partition: r.partition,
    source_offset: r.offset,
    date: utcDate(r.event_time),
    type: r.type,
  };
  for (const m of MEASUREMENT_COLUMNS) row[m] = r.values[m] ?? null;
  if (!passed) row.issues = JSON.stringify(r.issues);
  return row;
}

/** the schema's verdict on a value the fast path was not sure of: its reading, or a refusal with zod's reason */
function checkedByZod(value: unknown): ProcessedReading {
  const parsed = ProcessedReading.safeParse(value);
  if (!parsed.success) {
    throw new PlatformError(
      ErrorCodes.SCHEMA_VIOLATION,
      `not a processed reading: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data;
}

export const SILVER_TABLES: readonly LakeTable[] = [
  {
    name: "silver_sensor_readings",
    layer: "silver",
    description: "readings that passed every quality check, scored and enriched with district and zone",
    topics: [Topics.silver],
    schema: readingColumns,
    partitionColumns: ["date", "type"],
    rowId: "reading_id",
    toRows: (value: unknown, _record: LogRecord) => [readingRow(value, true)],
  },
  {
    name: "silver_quarantine",
    layer: "silver",
    description: "readings that failed a quality check, with their issues (JSON)",
    topics: [Topics.quarantine],
    schema: [...readingColumns.slice(0, -2), column("issues", "string", false), ...readingColumns.slice(-2)],
    partitionColumns: ["date", "type"],
    rowId: "reading_id",
    toRows: (value: unknown, _record: LogRecord) => [readingRow(value, false)],
  },
];
