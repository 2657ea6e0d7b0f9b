import type { FeatureStore } from "../../features/feature-store.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import {
  frameRows,
  GOLD_WINDOWS,
  goldWindows,
  numberOrNull,
  pinTables,
  recordedSet,
  requireFrameRows,
  resolveViews,
} from "./feature-store-sets.ts";
import { fieldValues } from "./traffic-forecast-features.ts";
import type { LabelledTrainingSet } from "./training-set-source.ts";
import {
  DISTRICT_ENVIRONMENT_VIEW,
  DISTRICT_UTILITY_VIEW,
  HOUR_MS,
  UTILITY_DISTRICT_FIELDS,
  UTILITY_FEATURE_SOURCES,
  UTILITY_FEATURES,
  UTILITY_SENSOR_VIEW,
  utilityRow,
} from "./utility-forecast-features.ts";

/**
 * The utility forecast's point-in-time training set from the feature store:
 *
 *   entity frame  one row per closed hour H of a utility sensor, from `gold_sensor_windows` at one
 *                 Delta version: label = H's mean consumption per reading (its windows' sums over
 *                 their readings, a window counted in the hour it starts in, a re-emitted window
 *                 once), event_timestamp = H's start, and the sensor's two hours before (when they
 *                 are the adjacent ones). An hour is closed when a window of a later hour of the
 *                 same sensor is in the table, as live; a row needs the hour before it, because
 *                 live forecasts are made when that hour closes;
 *   joins         `sensor_utility_window` (the last window), `district_utility_hourly` and
 *                 `district_environment_hourly` as of H's start;
 *   row           `utilityRow`, the function serving uses.
 */
export interface UtilitySetOptions {
  readonly districtOf?: (sensorId: string) => string | undefined;
  readonly maxRows?: number;
  readonly minRows?: number;
  readonly utcOffsetMinutes?: number;
}

const DEFAULT_MAX_ROWS = 50_000;

function hoursSql(source: string, select: string, tail: string): string {
  return `WITH w AS (
  SELECT key, window_start, count, consumption_sum FROM ${source}
  WHERE scope = 'sensor' AND type = 'utility' AND count > 0 AND consumption_sum IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY key, window_start ORDER BY emitted_at DESC) = 1
), h AS (
  SELECT key, (epoch_ms(window_start) // ${HOUR_MS}) * ${HOUR_MS} AS hour_ms,
         sum(consumption_sum) / sum(count) AS mean
  FROM w GROUP BY 1, 2
), lagged AS (
  SELECT key, hour_ms, mean,
         lag(mean) OVER s AS prev, lag(hour_ms) OVER s AS prev_ms,
         lag(mean, 2) OVER s AS before, lag(hour_ms, 2) OVER s AS before_ms,
         max(hour_ms) OVER (PARTITION BY key) AS last_ms
  FROM h WINDOW s AS (PARTITION BY key ORDER BY hour_ms)
)
SELECT ${select} FROM lagged WHERE hour_ms < last_ms AND prev_ms = hour_ms - ${HOUR_MS} ${tail}`;
}

function frameOf(snapshot: DeltaSnapshot, maxRows: number) {
  return frameRows(snapshot, (source) =>
    hoursSql(
      source,
      `key AS sensor_id, hour_ms::DOUBLE AS event_timestamp, mean AS label, prev AS previous_hour,
       CASE WHEN before_ms = hour_ms - ${2 * HOUR_MS} THEN before END AS hour_before`,
      `ORDER BY hour_ms DESC, key LIMIT ${maxRows}`,
    ),
  );
}

export async function utilityTrainingSet(
  store: FeatureStore,
  options: UtilitySetOptions = {},
): Promise<LabelledTrainingSet> {
  const windows = await goldWindows(store);
  const views = await resolveViews(store, [
    UTILITY_SENSOR_VIEW,
    DISTRICT_UTILITY_VIEW,
    DISTRICT_ENVIRONMENT_VIEW,
  ]);
  const pinned = { ...(await pinTables(store, views)), [GOLD_WINDOWS]: windows.version };
  const minRows = options.minRows ?? 20;
  const frame = await frameOf(windows, Math.max(1, Math.floor(options.maxRows ?? DEFAULT_MAX_ROWS)));
  requireFrameRows(frame.length, minRows, "closed utility hours", windows);
  for (const row of frame) row.district = options.districtOf?.(String(row.sensor_id)) ?? null;
  const joined =
    views.length === 0
      ? undefined
      : await store.trainingSet({
          views: views.map((v) => `${v.name}@${v.version}`),
          entities: { rows: frame },
          fullFeatureNames: true,
          tableVersions: pinned,
        });
  const examples: { at: number; row: Float64Array; label: number }[] = [];
  frame.forEach((entity, i) => {
    const label = numberOrNull(entity.label);
    if (label === null) return;
    const j = joined?.rows?.[i];
    const v = (view: string, feature: string) => numberOrNull(j?.[`${view}__${feature}`]);
    const target = Number(entity.event_timestamp);
    examples.push({
      at: target,
      row: utilityRow(
        {
          target,
          previousHour: numberOrNull(entity.previous_hour),
          hourBefore: numberOrNull(entity.hour_before),
          lastWindow: {
            consumption: v(UTILITY_SENSOR_VIEW, "consumption_mean"),
            consumptionMax: v(UTILITY_SENSOR_VIEW, "consumption_max"),
            voltage: v(UTILITY_SENSOR_VIEW, "voltage_mean"),
            current: v(UTILITY_SENSOR_VIEW, "current_mean"),
          },
          district: fieldValues(UTILITY_DISTRICT_FIELDS, v),
        },
        options.utcOffsetMinutes ?? 0,
      ),
      label,
    });
  });
  return recordedSet(store, examples, {
    ...{ features: UTILITY_FEATURES, sources: UTILITY_FEATURE_SOURCES, windows, views, pinned },
    minRows,
  });
}

/** closed utility hours in the offline store now (the bootstrap waits for enough of them) */
export async function countUtilityHours(store: FeatureStore): Promise<number> {
  const snapshot = await store.lake.snapshot(GOLD_WINDOWS);
  if (!snapshot) return 0;
  const rows = await frameRows(snapshot, (source) => hoursSql(source, "count(*)::BIGINT AS n", ""));
  return Number(rows[0]?.n ?? 0);
}
