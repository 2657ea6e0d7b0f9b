import type { FeatureStore } from "../../features/feature-store.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
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
import {
  DISTRICT_ENVIRONMENT_VIEW,
  DISTRICT_TRAFFIC_VIEW,
  FORECAST_FEATURE_SOURCES,
  FORECAST_FEATURES,
  fieldValues,
  forecastRow,
  type LagWindow,
  TRAFFIC_DISTRICT_FIELDS,
  TRAFFIC_SENSOR_VIEW,
} from "./traffic-forecast-features.ts";
import type { LabelledTrainingSet } from "./training-set-source.ts";

/**
 * The traffic forecast's point-in-time training set from the feature store (Feast's
 * get_historical_features over the lake's gold tables):
 *
 *   entity frame  one row per closed traffic window W of a sensor in `gold_sensor_windows` at
 *                 one Delta version (a re-emitted window once: the latest emission), with
 *                 event_timestamp = W's start (the moment its forecast is made: the previous
 *                 window has just closed), label = W's mean vehicle count, and the sensor's
 *                 district;
 *   joins         `sensor_traffic_window` as of W.start, W.start - |W| and W.start - 2|W| (lags
 *                 1-3: three as-of joins of one view version), `district_traffic_hourly` and
 *                 `district_environment_hourly` as of W.start (the last complete hour);
 *   row           `forecastRow` of what was joined, the function serving uses.
 *
 * No value from the future reaches a row: every join is an as-of join at or before W.start, and
 * W's own window ends after it. Frames keep the newest `maxRows` windows, so the set (and the
 * memory it takes) stays bounded however long the lake grows.
 */
export interface TrafficSetOptions {
  /** a sensor's district (the sensor registry); without it the district features are missing */
  readonly districtOf?: (sensorId: string) => string | undefined;
  readonly maxRows?: number;
  readonly minRows?: number;
  readonly utcOffsetMinutes?: number;
  readonly onProgress?: (fraction: number) => void;
}

const DEFAULT_MAX_ROWS = 50_000;

export async function trafficTrainingSet(
  store: FeatureStore,
  options: TrafficSetOptions = {},
): Promise<LabelledTrainingSet> {
  const windows = await goldWindows(store);
  const views = await resolveViews(store, [
    TRAFFIC_SENSOR_VIEW,
    DISTRICT_TRAFFIC_VIEW,
    DISTRICT_ENVIRONMENT_VIEW,
  ]);
  const sensorView = views.find((v) => v.name === TRAFFIC_SENSOR_VIEW);
  if (!sensorView)
    throw new PlatformError(
      ErrorCodes.FEATURE_VIEW_NOT_FOUND,
      `the traffic forecast needs the feature view ${TRAFFIC_SENSOR_VIEW}, which is not registered`,
    );
  const pinned = { ...(await pinTables(store, views)), [GOLD_WINDOWS]: windows.version };
  const maxRows = Math.max(1, Math.floor(options.maxRows ?? DEFAULT_MAX_ROWS));
  const frame = await frameRows(
    windows,
    (source) => `SELECT key AS sensor_id, epoch_ms(window_start)::DOUBLE AS event_timestamp,
       (2 * epoch_ms(window_start) - epoch_ms(window_end))::DOUBLE AS ts_lag2,
       (3 * epoch_ms(window_start) - 2 * epoch_ms(window_end))::DOUBLE AS ts_lag3,
       vehicle_count_mean AS label
FROM ${source}
WHERE scope = 'sensor' AND type = 'traffic' AND count > 0 AND vehicle_count_mean IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY key, window_start ORDER BY emitted_at DESC) = 1
ORDER BY window_start DESC, key LIMIT ${maxRows}`,
  );
  requireFrameRows(frame.length, options.minRows ?? 20, "closed traffic windows", windows);
  for (const row of frame) row.district = options.districtOf?.(String(row.sensor_id)) ?? null;
  const pin = (name: string) => `${name}@${views.find((v) => v.name === name)!.version}`;
  const district = views.filter((v) => v.name !== TRAFFIC_SENSOR_VIEW).map((v) => pin(v.name));
  const ask = (timestampColumn: string, names: readonly string[]) =>
    store.trainingSet({
      views: names,
      entities: { rows: frame },
      timestampColumn,
      fullFeatureNames: true,
      tableVersions: pinned,
    });
  const atStart = await ask("event_timestamp", [pin(TRAFFIC_SENSOR_VIEW), ...district]);
  options.onProgress?.(0.4);
  const atLag2 = await ask("ts_lag2", [pin(TRAFFIC_SENSOR_VIEW)]);
  options.onProgress?.(0.7);
  const atLag3 = await ask("ts_lag3", [pin(TRAFFIC_SENSOR_VIEW)]);
  options.onProgress?.(1);
  const lag = (row: Record<string, unknown> | undefined): LagWindow | undefined => {
    const v = (feature: string) => numberOrNull(row?.[`${TRAFFIC_SENSOR_VIEW}__${feature}`]);
    const mean = v("vehicle_count_mean");
    if (mean === null) return undefined;
    return {
      vehicleCountMean: mean,
      vehicleCountMax: v("vehicle_count_max"),
      avgSpeedMean: v("avg_speed_mean"),
      readingCount: v("reading_count"),
    };
  };
  const examples: { at: number; row: Float64Array; label: number }[] = [];
  frame.forEach((entity, i) => {
    const joined = atStart.rows![i]!;
    const lag1 = lag(joined);
    const label = numberOrNull(entity.label);
    // a window with no earlier one within the TTL is never forecast live: nothing to learn from it
    if (!lag1 || label === null) return;
    const d = (view: string, feature: string) => numberOrNull(joined[`${view}__${feature}`]);
    const target = Number(entity.event_timestamp);
    examples.push({
      at: target,
      row: forecastRow(
        {
          target,
          lags: [lag1, lag(atLag2.rows![i]), lag(atLag3.rows![i])],
          district: fieldValues(TRAFFIC_DISTRICT_FIELDS, d),
        },
        options.utcOffsetMinutes ?? 0,
      ),
      label,
    });
  });
  return recordedSet(store, examples, {
    ...{ features: FORECAST_FEATURES, sources: FORECAST_FEATURE_SOURCES, windows, views, pinned },
    minRows: options.minRows ?? 20,
  });
}

/** closed traffic windows in the offline store now: the bootstrap waits for enough of them */
export async function countTrafficWindows(store: FeatureStore): Promise<number> {
  const snapshot = await store.lake.snapshot(GOLD_WINDOWS);
  if (!snapshot) return 0;
  const rows = await frameRows(
    snapshot,
    (source) =>
      `SELECT count(DISTINCT (key, window_start))::BIGINT AS n FROM ${source} WHERE scope = 'sensor' AND type = 'traffic' AND count > 0`,
  );
  return Number(rows[0]?.n ?? 0);
}
