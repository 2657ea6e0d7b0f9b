import type { LogRecord } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { Prediction } from "../../messages/prediction.ts";
import { SENSOR_TYPES } from "../../messages/sensor-reading.ts";
import { Topics } from "../../messages/topics.ts";
import { WindowResult } from "../../messages/window-result.ts";
import type { DeltaField } from "../delta/schema.ts";
import { column, type LakeTable, utcDate } from "./lake-table.ts";
import { MEASUREMENT_COLUMNS } from "./silver.ts";

/**
 * Gold: what the platform made of the readings. Final window aggregates (per sensor and per
 * type) and model predictions come from their topics; the per-district hourly summaries are
 * built from silver by a job (`district-hourly-job.ts`). These are the tables the feature store
 * of the next issue reads.
 */
const AGGREGATES = ["mean", "min", "max", "sum"] as const;

function refused(
  what: string,
  error: { issues: readonly { path: PropertyKey[]; message: string }[] },
): never {
  const issue = error.issues[0];
  throw new PlatformError(
    ErrorCodes.SCHEMA_VIOLATION,
    `not a ${what}: ${issue?.path.map(String).join(".")} ${issue?.message}`,
  );
}

function windowRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = WindowResult.safeParse(value);
  if (!parsed.success) return refused("window result", parsed.error);
  const w = parsed.data;
  // only a closed window is a result; the topics carry final ones, an update would be a repeat
  if (!w.final) return [];
  const row: Record<string, unknown> = {
    window_id: `${w.scope}/${w.key}/${w.window_start}`,
    scope: w.scope,
    key: w.key,
    window_start: w.window_start,
    window_end: w.window_end,
    count: w.count,
    emitted_at: w.emitted_at,
    date: utcDate(w.window_start),
    type: w.type,
  };
  for (const m of MEASUREMENT_COLUMNS) {
    const field = w.fields[m];
    for (const agg of AGGREGATES) row[`${m}_${agg}`] = field ? field[agg] : null;
  }
  return [row];
}

function predictionRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = Prediction.safeParse(value);
  if (!parsed.success) return refused("prediction", parsed.error);
  const p = parsed.data;
  return [
    {
      prediction_id: p.prediction_id,
      model: p.model,
      model_version: p.model_version,
      key: p.key,
      window_start: p.window_start,
      window_end: p.window_end,
      value: p.value,
      latency_ms: p.latency_ms,
      at: p.at,
      features: JSON.stringify(p.features),
      date: utcDate(p.window_start),
    },
  ];
}

export const DISTRICT_HOURLY_MEASURES = MEASUREMENT_COLUMNS.map((m) => `avg_${m}`);

export const GOLD_TABLES: readonly LakeTable[] = [
  {
    name: "gold_sensor_windows",
    layer: "gold",
    description: "final event-time window aggregates per sensor and per type (count, mean, min, max, sum)",
    topics: SENSOR_TYPES.map((type) => Topics.processed(type)),
    schema: [
      column("window_id", "string", false),
      column("scope", "string", false),
      column("key", "string", false),
      column("window_start", "timestamp", false),
      column("window_end", "timestamp", false),
      column("count", "long", false),
      ...MEASUREMENT_COLUMNS.flatMap((m) => AGGREGATES.map((agg) => column(`${m}_${agg}`, "double"))),
      column("emitted_at", "timestamp", false),
      column("date", "date", false),
      column("type", "string", false),
    ] satisfies DeltaField[],
    partitionColumns: ["date", "type"],
    rowId: "window_id",
    toRows: windowRows,
  },
  {
    name: "gold_predictions",
    layer: "gold",
    description: "model predictions per window with the model version that made them",
    topics: [Topics.predictions],
    schema: [
      column("prediction_id", "string", false),
      column("model", "string", false),
      column("model_version", "string", false),
      column("key", "string", false),
      column("window_start", "timestamp", false),
      column("window_end", "timestamp", false),
      column("value", "double", false),
      column("latency_ms", "double", false),
      column("at", "timestamp", false),
      column("features", "string", false),
      column("date", "date", false),
    ],
    partitionColumns: ["date"],
    rowId: "prediction_id",
    toRows: predictionRows,
  },
  {
    name: "gold_district_hourly",
    layer: "gold",
    description:
      "per district, type and hour: readings, sensors, averages of each measurement, quality and anomaly (built from silver)",
    topics: [],
    schema: [
      column("hour_start", "timestamp", false),
      column("district", "string"),
      column("readings", "long", false),
      column("sensors", "long", false),
      ...DISTRICT_HOURLY_MEASURES.map((m) => column(m, "double")),
      column("avg_quality_score", "double", false),
      column("max_anomaly_score", "double", false),
      column("date", "date", false),
      column("hour", "integer", false),
      column("type", "string", false),
    ],
    partitionColumns: ["date", "hour"],
  },
];

/** A view the lake's SQL offers over its tables (no files of its own). */
export interface LakeView {
  readonly name: string;
  readonly description: string;
  /** the tables the view reads */
  readonly uses: readonly string[];
  readonly sql: string;
}

/**
 * Predictions with their actuals: the traffic forecast's mean vehicle count for a sensor's
 * window, next to the window's measured mean once it has closed and reached gold (the label the
 * model was trained on). `actual` is null while the window has not reached the lake.
 */
export const GOLD_VIEWS: readonly LakeView[] = [
  {
    name: "gold_prediction_outcomes",
    description: "each prediction with the actual mean vehicle count of its window, and the error",
    uses: ["gold_predictions", "gold_sensor_windows"],
    sql: `SELECT p.prediction_id, p.model, p.model_version, p.key, p.window_start, p.window_end,
         p.value AS predicted, a.actual, a.actual - p.value AS error, p.at, p.date
  FROM gold_predictions p
  LEFT JOIN (
    SELECT key, window_start, arg_max(vehicle_count_mean, emitted_at) AS actual
    FROM gold_sensor_windows WHERE scope = 'sensor' AND type = 'traffic'
    GROUP BY key, window_start
  ) a ON a.key = p.key AND a.window_start = p.window_start`,
  },
];
