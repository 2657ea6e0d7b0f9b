import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The traffic congestion model's inputs and label.
 *
 * Input: one closed window (1 minute by default) of one traffic sensor's readings.
 * Features, in this order (TRAFFIC_FEATURE_NAMES):
 *   vehicle_count_mean, vehicle_count_min, vehicle_count_max  per reading, in the window
 *   avg_speed_mean                                             km/h
 *   reading_count                                              readings in the window
 *   hour_sin, hour_cos                                         time of day on the unit circle, so
 *                                                              23:59 is next to 00:00
 *   day_of_week                                                0 = Monday ... 6 = Sunday
 * Time features use the window start shifted by `utcOffsetMinutes` (the city's local time).
 *
 * Label, the congestion index in [0, 1]: an occupancy-like volume term times a speed-drop term,
 *   congestion = clamp01(vehicle_count_mean / CAPACITY) * clamp01(1 - avg_speed_mean / FREE_FLOW)
 * with CAPACITY = 100 vehicles per reading and FREE_FLOW = 80 km/h. Empty, free-flowing roads
 * score 0; a saturated road at walking pace scores near 1; many fast cars (a motorway at
 * capacity but flowing) score low, as congestion should.
 */
export const TRAFFIC_FEATURE_NAMES = [
  "vehicle_count_mean",
  "vehicle_count_min",
  "vehicle_count_max",
  "avg_speed_mean",
  "reading_count",
  "hour_sin",
  "hour_cos",
  "day_of_week",
] as const;
export type TrafficFeatureName = (typeof TRAFFIC_FEATURE_NAMES)[number];

export const TRAFFIC_CAPACITY_PER_READING = 100;
export const FREE_FLOW_SPEED_KMH = 80;

/** The aggregates of one traffic sensor's window that the model needs. */
export interface TrafficWindow {
  readonly sensorId: string;
  /** Window start, epoch milliseconds (event time). */
  readonly windowStart: number;
  readonly readingCount: number;
  readonly vehicleCountMean: number;
  readonly vehicleCountMin: number;
  readonly vehicleCountMax: number;
  readonly avgSpeedMean: number;
}

const MINUTES_PER_DAY = 24 * 60;

/** Writes the window's features into `out` (allocated when absent) in TRAFFIC_FEATURE_NAMES order. */
export function trafficFeatures(
  window: TrafficWindow,
  utcOffsetMinutes = 0,
  out?: Float64Array,
): Float64Array {
  if (!Number.isFinite(window.windowStart)) {
    throw new PlatformError(
      ErrorCodes.FEATURE_MISSING,
      `window of ${window.sensorId} has no valid start time`,
    );
  }
  const features = out ?? new Float64Array(TRAFFIC_FEATURE_NAMES.length);
  const localMinutes = Math.floor(window.windowStart / 60_000) + utcOffsetMinutes;
  const minuteOfDay = ((localMinutes % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  const dayNumber = Math.floor((localMinutes - minuteOfDay) / MINUTES_PER_DAY);
  const angle = (2 * Math.PI * minuteOfDay) / MINUTES_PER_DAY;
  features[0] = window.vehicleCountMean;
  features[1] = window.vehicleCountMin;
  features[2] = window.vehicleCountMax;
  features[3] = window.avgSpeedMean;
  features[4] = window.readingCount;
  features[5] = Math.sin(angle);
  features[6] = Math.cos(angle);
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  features[7] = (((dayNumber + 3) % 7) + 7) % 7;
  return features;
}

export function congestionIndex(vehicleCountMean: number, avgSpeedMean: number): number {
  const volume = clamp01(vehicleCountMean / TRAFFIC_CAPACITY_PER_READING);
  const slowdown = clamp01(1 - avgSpeedMean / FREE_FLOW_SPEED_KMH);
  return volume * slowdown;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
