/**
 * The utility forecast: a utility sensor's consumption in the next hour, as the mean consumption
 * per reading over that hour (the sum of the hour's readings over their number, so a sensor that
 * dropped a reading is not taken for one that used less). The label is known when the hour
 * closes: the sensor's first window of a later hour arrives.
 *
 * One row function (`utilityRow`) for training (`utility-training-set.ts`: the hours computed
 * from `gold_sensor_windows` at one Delta version, the views joined as of the hour's start) and
 * for serving (`actors/model-shard/utility-forecaster.ts`: the hours accumulated as the windows
 * close, the district's hour from the online store). Its inputs, all known at the forecast hour's
 * start:
 *  - the hour's time of day and day of week;
 *  - the sensor's consumption in the hour before (its label then) and the one before that, when
 *    they are the adjacent hours;
 *  - the sensor's last window (`sensor_utility_window`: consumption, its max, voltage, current);
 *  - its district's last complete hour of utility and environment readings (temperature drives
 *    heating and cooling).
 * Missing values are NaN.
 */
export const HOUR_MS = 3_600_000;

export interface UtilityInputs {
  /** the forecast hour's start, epoch ms */
  readonly target: number;
  readonly previousHour: number | null;
  readonly hourBefore: number | null;
  readonly lastWindow?:
    | {
        readonly consumption: number | null;
        readonly consumptionMax: number | null;
        readonly voltage: number | null;
        readonly current: number | null;
      }
    | undefined;
  readonly district?:
    | {
        readonly consumption: number | null;
        readonly temperature: number | null;
      }
    | undefined;
}

export const UTILITY_FEATURES = [
  "hour_sin",
  "hour_cos",
  "day_of_week",
  "consumption_prev_hour",
  "consumption_hour_before",
  "consumption_last_window",
  "consumption_max_last_window",
  "voltage_last_window",
  "current_last_window",
  "district_consumption_hourly",
  "district_temperature_hourly",
] as const;

export const UTILITY_SENSOR_VIEW = "sensor_utility_window";
export const DISTRICT_UTILITY_VIEW = "district_utility_hourly";
export const DISTRICT_ENVIRONMENT_VIEW = "district_environment_hourly";

/** the utility forecast's district inputs, for the training set's join and the live online read */
export const UTILITY_DISTRICT_FIELDS = {
  consumption: { view: DISTRICT_UTILITY_VIEW, feature: "avg_consumption" },
  temperature: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_temperature" },
} as const;

/** model feature -> the view feature it is read from (its drift reference's statistics) */
export const UTILITY_FEATURE_SOURCES: Readonly<Record<string, { view: string; feature: string }>> = {
  consumption_last_window: { view: UTILITY_SENSOR_VIEW, feature: "consumption_mean" },
  consumption_max_last_window: { view: UTILITY_SENSOR_VIEW, feature: "consumption_max" },
  voltage_last_window: { view: UTILITY_SENSOR_VIEW, feature: "voltage_mean" },
  current_last_window: { view: UTILITY_SENSOR_VIEW, feature: "current_mean" },
  district_consumption_hourly: { view: DISTRICT_UTILITY_VIEW, feature: "avg_consumption" },
  district_temperature_hourly: { view: DISTRICT_ENVIRONMENT_VIEW, feature: "avg_temperature" },
};

const DAY_MS = 86_400_000;

export function hourStartOf(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

export function utilityRow(inputs: UtilityInputs, utcOffsetMinutes = 0): Float64Array {
  const local = inputs.target + utcOffsetMinutes * 60_000;
  const hour = (((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const day = (((Math.floor(local / DAY_MS) + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (Monday = 0)
  const w = inputs.lastWindow;
  return Float64Array.from([
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
    day,
    num(inputs.previousHour),
    num(inputs.hourBefore),
    num(w?.consumption),
    num(w?.consumptionMax),
    num(w?.voltage),
    num(w?.current),
    num(inputs.district?.consumption),
    num(inputs.district?.temperature),
  ]);
}

function num(value: number | null | undefined): number {
  return value === null || value === undefined || !Number.isFinite(value) ? Number.NaN : value;
}
