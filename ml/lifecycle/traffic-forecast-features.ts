import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { FeatureReference, LabelledTrainingSet, TrainingSetLineage } from "./training-set-source.ts";

/**
 * The traffic forecast's features: from what is known when a sensor's window closes, predict the
 * mean vehicle count of its next window. The label is the future, known only when that next
 * window closes, so the model cannot compute it from its inputs.
 *
 * One function (`forecastRow`) turns what the feature store joined into a vector, for training
 * (the point-in-time join over the lake, `traffic-training-set.ts`) and for serving (the node's
 * own recent windows and the online store), so the two paths cannot drift apart. Its inputs:
 *  - the forecast window's start `target`: time of day (a point on the circle, so 23:00 is next
 *    to 00:00) and day of week are computed from it;
 *  - lag k (k = 1..3) = the sensor's latest window that ended at or before
 *    target - (k - 1) x window, within the view's TTL: exactly what an as-of join of
 *    `sensor_traffic_window` at those three times gives, gaps included;
 *  - the sensor's district's last complete hour of traffic and environment readings
 *    (`district_traffic_hourly`, `district_environment_hourly`).
 * Missing values are NaN (the trees learn a side for them), never a made-up zero.
 */
export interface TrafficWindowRow {
  readonly key: string;
  readonly windowStart: number;
  readonly windowMs: number;
  readonly vehicleCountMean: number;
  readonly vehicleCountMax: number;
  readonly avgSpeedMean: number;
  readonly readingCount?: number;
}

/** one lag: a window of the sensor as the `sensor_traffic_window` view holds it */
export interface LagWindow {
  readonly vehicleCountMean: number | null;
  readonly vehicleCountMax: number | null;
  readonly avgSpeedMean: number | null;
  readonly readingCount: number | null;
}

export interface DistrictHour {
  readonly vehicleCount: number | null;
  readonly avgSpeed: number | null;
  readonly airQuality: number | null;
  readonly temperature: number | null;
}

/** where one input of a row is read: a feature view and its field */
export interface ViewField {
  readonly view: string;
  readonly feature: string;
}

/** the inputs `fields` names, each read from where it is (a joined row offline, the online store live) */
export function fieldValues<F extends string>(
  fields: Readonly<Record<F, ViewField>>,
  read: (view: string, feature: string) => number | null,
): Record<F, number | null> {
  const out = {} as Record<F, number | null>;
  for (const [name, { view, feature }] of Object.entries<ViewField>(fields))
    out[name as F] = read(view, feature);
  return out;
}

export interface ForecastInputs {
  /** the forecast window's start, epoch ms */
  readonly target: number;
  /** lag 1, 2, 3 (undefined: none within the TTL) */
  readonly lags: readonly (LagWindow | undefined)[];
  readonly district?: DistrictHour | undefined;
}

export const FORECAST_FEATURES = [
  "hour_sin",
  "hour_cos",
  "day_of_week",
  "vehicle_count_lag1",
  "vehicle_count_lag2",
  "vehicle_count_lag3",
  "vehicle_count_roll_mean3",
  "vehicle_count_roll_std3",
  "vehicle_count_max_lag1",
  "avg_speed_lag1",
  "avg_speed_roll_mean3",
  "reading_count_lag1",
  "district_vehicle_count_hourly",
  "district_avg_speed_hourly",
  "district_air_quality_hourly",
  "district_temperature_hourly",
] as const;

/** the traffic views the forecast reads (their names in features/views/iot-views.ts) */
export const TRAFFIC_SENSOR_VIEW = "sensor_traffic_window";
export const DISTRICT_TRAFFIC_VIEW = "district_traffic_hourly";
export const DISTRICT_ENVIRONMENT_VIEW = "district_environment_hourly";

/**
 * The traffic forecast's district inputs: the district's last complete traffic and environment
 * hour. One map for the training set's as-of join and the live online read, so both read the
 * same fields.
 */
export const TRAFFIC_DISTRICT_FIELDS = {
  vehicleCount: { view: DISTRICT_TRAFFIC_VIEW, feature: "avg_vehicle_count" },
  avgSpeed: { view: DISTRICT_TRAFFIC_VIEW, feature: "avg_avg_speed" },
  airQuality: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_air_quality_index" },
  temperature: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_temperature" },
} as const satisfies Record<keyof DistrictHour, ViewField>;
/** the TTL of `sensor_traffic_window`: a lag older than this at the forecast time is missing */
export const LAG_TTL_MS = 2 * 3600_000;

/**
 * Which view feature each model feature is read from: the drift reference of the model feature
 * is that view version's statistics. Derived features (time, rolling statistics) have none and
 * are compared with the training sample instead.
 */
export const FORECAST_FEATURE_SOURCES: Readonly<Record<string, { view: string; feature: string }>> = {
  vehicle_count_lag1: { view: TRAFFIC_SENSOR_VIEW, feature: "vehicle_count_mean" },
  vehicle_count_lag2: { view: TRAFFIC_SENSOR_VIEW, feature: "vehicle_count_mean" },
  vehicle_count_lag3: { view: TRAFFIC_SENSOR_VIEW, feature: "vehicle_count_mean" },
  vehicle_count_max_lag1: { view: TRAFFIC_SENSOR_VIEW, feature: "vehicle_count_max" },
  avg_speed_lag1: { view: TRAFFIC_SENSOR_VIEW, feature: "avg_speed_mean" },
  reading_count_lag1: { view: TRAFFIC_SENSOR_VIEW, feature: "reading_count" },
  district_vehicle_count_hourly: { view: DISTRICT_TRAFFIC_VIEW, feature: "avg_vehicle_count" },
  district_avg_speed_hourly: { view: DISTRICT_TRAFFIC_VIEW, feature: "avg_avg_speed" },
  district_air_quality_hourly: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_air_quality_index" },
  district_temperature_hourly: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_temperature" },
};

const LAGS = 3;
const DAY_MS = 86_400_000;

export function forecastRow(inputs: ForecastInputs, utcOffsetMinutes = 0): Float64Array {
  const local = inputs.target + utcOffsetMinutes * 60_000;
  const hour = (((local % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  const day = (((Math.floor(local / DAY_MS) + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (Monday = 0)
  const counts = [0, 1, 2].map((k) => num(inputs.lags[k]?.vehicleCountMean));
  const speeds = [0, 1, 2].map((k) => num(inputs.lags[k]?.avgSpeedMean));
  const known = counts.filter((c) => !Number.isNaN(c));
  const mean = known.length === 0 ? Number.NaN : known.reduce((a, b) => a + b, 0) / known.length;
  const sd =
    known.length < 2 ? Number.NaN : Math.sqrt(known.reduce((a, b) => a + (b - mean) ** 2, 0) / known.length);
  const knownSpeeds = speeds.filter((s) => !Number.isNaN(s));
  const district = inputs.district;
  return Float64Array.from([
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
    day,
    counts[0]!,
    counts[1]!,
    counts[2]!,
    mean,
    sd,
    num(inputs.lags[0]?.vehicleCountMax),
    speeds[0]!,
    knownSpeeds.length === 0 ? Number.NaN : knownSpeeds.reduce((a, b) => a + b, 0) / knownSpeeds.length,
    num(inputs.lags[0]?.readingCount),
    num(district?.vehicleCount),
    num(district?.avgSpeed),
    num(district?.airQuality),
    num(district?.temperature),
  ]);
}

/**
 * Lags 1..3 for a forecast at `target` from a sensor's windows (oldest first): for each k the
 * latest window that ended at or before target - (k - 1) x windowMs and not more than the TTL
 * before it, the as-of join's rule. The last three windows of a sensor are enough: the third
 * newest always ended at or before target - 2 x window.
 */
export function lagsAt(
  history: readonly TrafficWindowRow[],
  target: number,
  windowMs: number,
  ttlMs = LAG_TTL_MS,
): (LagWindow | undefined)[] {
  return Array.from({ length: LAGS }, (_, k) => {
    const asOf = target - k * windowMs;
    for (let i = history.length - 1; i >= 0; i--) {
      const row = history[i]!;
      const end = row.windowStart + row.windowMs;
      if (end > asOf) continue;
      if (end < asOf - ttlMs) return undefined;
      return {
        vehicleCountMean: row.vehicleCountMean,
        vehicleCountMax: row.vehicleCountMax,
        avgSpeedMean: row.avgSpeedMean,
        readingCount: row.readingCount ?? null,
      };
    }
    return undefined;
  });
}

/**
 * The feature vector for the window after `history`'s last (oldest first), without district
 * features (batch scoring of a window table and in-memory tests); undefined when it is empty.
 */
export function forecastFeatures(
  history: readonly TrafficWindowRow[],
  utcOffsetMinutes = 0,
): Float64Array | undefined {
  const last = history[history.length - 1];
  if (!last) return undefined;
  const target = last.windowStart + last.windowMs;
  return forecastRow({ target, lags: lagsAt(history, target, last.windowMs) }, utcOffsetMinutes);
}

/**
 * Training rows from windows held in memory (tests and the drill's bench; the node trains on the
 * feature store's point-in-time sets): per sensor, every window after the first is a label, its
 * features what `forecastFeatures` gives from the windows before it. Rows come in time order of
 * their label, so a time-ordered holdout is the most recent data.
 */
export function forecastTrainingSet(
  windows: readonly TrafficWindowRow[],
  lineage: TrainingSetLineage,
  utcOffsetMinutes = 0,
  featureReferences?: Readonly<Record<string, FeatureReference>>,
): LabelledTrainingSet {
  const bySensor = new Map<string, TrafficWindowRow[]>();
  for (const row of windows) {
    if (!Number.isFinite(row.vehicleCountMean) || !Number.isFinite(row.avgSpeedMean)) continue;
    const list = bySensor.get(row.key);
    if (list) list.push(row);
    else bySensor.set(row.key, [row]);
  }
  const examples: { at: number; row: Float64Array; label: number }[] = [];
  for (const list of bySensor.values()) {
    list.sort((a, b) => a.windowStart - b.windowStart);
    for (let i = 1; i < list.length; i++) {
      const labelled = list[i]!;
      const lags = lagsAt(list.slice(Math.max(0, i - LAGS), i), labelled.windowStart, labelled.windowMs);
      if (!lags[0]) continue;
      examples.push({
        at: labelled.windowStart,
        row: forecastRow({ target: labelled.windowStart, lags }, utcOffsetMinutes),
        label: labelled.vehicleCountMean,
      });
    }
  }
  return labelledSet(examples, FORECAST_FEATURES, lineage, featureReferences);
}

/** examples -> a training set in time order; TRAINING_DATA_INVALID below `minimum` rows */
export function labelledSet(
  examples: { at: number; row: Float64Array; label: number }[],
  featureNames: readonly string[],
  lineage: TrainingSetLineage,
  featureReferences?: Readonly<Record<string, FeatureReference>>,
  minimum = 20,
): LabelledTrainingSet {
  if (examples.length < minimum) {
    throw new PlatformError(
      ErrorCodes.TRAINING_DATA_INVALID,
      `only ${examples.length} labelled rows: at least ${minimum} are needed`,
    );
  }
  examples.sort((a, b) => a.at - b.at);
  return {
    rows: examples.map((e) => e.row),
    labels: Float64Array.from(examples, (e) => e.label),
    featureNames,
    lineage,
    ...(featureReferences ? { featureReferences } : {}),
  };
}

function num(value: number | null | undefined): number {
  return value === null || value === undefined || !Number.isFinite(value) ? Number.NaN : value;
}
