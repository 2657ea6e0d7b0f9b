import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { LabelledTrainingSet, TrainingSetLineage } from "./training-set-source.ts";

/**
 * The traffic forecast's features: from a sensor's closed windows up to now, predict the next
 * window's mean vehicle count. Lags and rolling statistics of the sensor's own history, the time
 * of day (as a point on the circle, so 23:00 is next to 00:00) and the day of week. Unlike the
 * start-up model this replaces, the label is a value the model cannot compute from its inputs:
 * it is the future, known only when the next window closes.
 */
export interface TrafficWindowRow {
  readonly key: string;
  readonly windowStart: number;
  readonly windowMs: number;
  readonly vehicleCountMean: number;
  readonly vehicleCountMax: number;
  readonly avgSpeedMean: number;
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
] as const;

const LAGS = 3;

/** The feature vector for the window after `history`'s last (oldest first); undefined when it is too short. */
export function forecastFeatures(
  history: readonly TrafficWindowRow[],
  utcOffsetMinutes = 0,
): Float64Array | undefined {
  if (history.length < LAGS) return undefined;
  const last = history[history.length - 1]!;
  const recent = history.slice(-LAGS);
  const target = last.windowStart + last.windowMs + utcOffsetMinutes * 60_000;
  const hour = (((target % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
  const day = Math.floor(target / 86_400_000 + 4) % 7; // 1970-01-01 was a Thursday
  const counts = recent.map((row) => row.vehicleCountMean);
  const mean = counts.reduce((a, b) => a + b, 0) / LAGS;
  const sd = Math.sqrt(counts.reduce((a, b) => a + (b - mean) ** 2, 0) / LAGS);
  const speeds = recent.map((row) => row.avgSpeedMean);
  return Float64Array.from([
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
    day,
    counts[2]!,
    counts[1]!,
    counts[0]!,
    mean,
    sd,
    last.vehicleCountMax,
    speeds[2]!,
    speeds.reduce((a, b) => a + b, 0) / LAGS,
  ]);
}

/**
 * Training rows from windows (any order): per sensor, every run of LAGS consecutive windows
 * followed by the next one gives a row, labelled with that next window's mean count. Rows are
 * returned in time order of their label, so a time-ordered holdout is the most recent data.
 */
export function forecastTrainingSet(
  windows: readonly TrafficWindowRow[],
  lineage: TrainingSetLineage,
  utcOffsetMinutes = 0,
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
    for (let i = LAGS; i < list.length; i++) {
      const history = list.slice(i - LAGS, i);
      if (!consecutive([...history, list[i]!])) continue;
      const row = forecastFeatures(history, utcOffsetMinutes)!;
      examples.push({ at: list[i]!.windowStart, row, label: list[i]!.vehicleCountMean });
    }
  }
  if (examples.length < 20) {
    throw new PlatformError(
      ErrorCodes.TRAINING_DATA_INVALID,
      `only ${examples.length} labelled windows: at least 20 runs of ${LAGS + 1} consecutive windows are needed`,
    );
  }
  examples.sort((a, b) => a.at - b.at);
  return {
    rows: examples.map((e) => e.row),
    labels: Float64Array.from(examples, (e) => e.label),
    featureNames: FORECAST_FEATURES,
    lineage,
  };
}

function consecutive(rows: readonly TrafficWindowRow[]): boolean {
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.windowStart - rows[i - 1]!.windowStart !== rows[i - 1]!.windowMs) return false;
  }
  return true;
}
