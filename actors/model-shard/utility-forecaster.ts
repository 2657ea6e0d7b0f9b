import { BoundedMap } from "../../messages/bounded-map.ts";
import type { Prediction } from "../../messages/prediction.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import {
  HOUR_MS,
  hourStartOf,
  UTILITY_FEATURES,
  utilityRow,
} from "../../ml/lifecycle/utility-forecast-features.ts";
import { districtHoursOfSensors } from "./district-hours.ts";
import { ForecastBatch } from "./forecast-batch.ts";
import type { ModelServing } from "./model-serving.ts";

/**
 * The live side of the utility forecast. Per sensor it sums the open hour's windows (a window
 * counts in the hour it starts in, once); when a window of a later hour arrives the open hour has
 * closed: its mean consumption per reading labels the forecast made for it, and the next hour is
 * forecast from `utilityRow` (the hours before, the closed hour's last window, the district's
 * hour from the online store), published as a prediction with the version that made it.
 * Windows of an hour already closed (late, or replayed) change nothing. A sensor's first hour
 * seen from its middle (after a restart) is not labelled: its sum would be partial.
 */
export interface UtilityWindowRow {
  readonly key: string;
  readonly windowStart: number;
  readonly windowMs: number;
  /** readings in the window */
  readonly count: number;
  readonly consumptionSum: number;
  readonly consumptionMean: number;
  readonly consumptionMax: number;
  readonly voltageMean: number | null;
  readonly currentMean: number | null;
}

export interface UtilityForecasterDeps {
  readonly serving: ModelServing;
  readonly model: string;
  readonly publish: (prediction: Prediction) => void;
  readonly districtOf?: (sensorId: string) => string | undefined;
  readonly districtHours?: (
    districts: readonly string[],
  ) => Promise<ReadonlyMap<string, { consumption: number | null; temperature: number | null }>>;
  readonly now: () => number;
  readonly hrtimeMs: () => number;
  readonly maxSensors?: number;
}

interface SensorHours {
  hour: number;
  sum: number;
  count: number;
  /** the open hour saw its first window at its start side: it may be labelled when it closes */
  whole: boolean;
  readonly starts: Set<number>;
  closed: { hour: number; mean: number }[];
  lastWindow: UtilityWindowRow | undefined;
}

export class UtilityForecaster {
  private readonly sensors: BoundedMap<string, SensorHours>;
  private readonly batch: ForecastBatch;

  constructor(private readonly deps: UtilityForecasterDeps) {
    this.sensors = new BoundedMap(deps.maxSensors ?? 100_000);
    this.batch = new ForecastBatch({ ...deps, featureNames: UTILITY_FEATURES });
  }

  get forecasts(): number {
    return this.batch.forecasts;
  }

  async closed(windows: readonly UtilityWindowRow[]): Promise<void> {
    const { serving, model } = this.deps;
    const served = serving.policyOf(model) !== undefined;
    const rows = [...windows].sort((a, b) => a.windowStart - b.windowStart);
    const districts = served ? await this.districtHours(rows.map((w) => w.key)) : new Map();
    for (const w of rows) {
      const hour = hourStartOf(w.windowStart);
      const s = this.sensor(w.key, hour, w.windowStart);
      if (hour < s.hour) continue;
      if (hour > s.hour) {
        if (s.whole && s.count > 0) {
          const mean = s.sum / s.count;
          if (served) await this.batch.label(w.key, s.hour, mean);
          s.closed = [...s.closed, { hour: s.hour, mean }].slice(-2);
          const before =
            s.closed.length === 2 && s.closed[0]!.hour === s.hour - HOUR_MS ? s.closed[0]! : undefined;
          const last = s.lastWindow;
          const district = this.deps.districtOf?.(w.key);
          const target = s.hour + HOUR_MS;
          if (served)
            this.batch.add(
              w.key,
              target,
              target + HOUR_MS,
              utilityRow({
                target,
                previousHour: mean,
                hourBefore: before?.mean ?? null,
                lastWindow: last && {
                  consumption: last.consumptionMean,
                  consumptionMax: last.consumptionMax,
                  voltage: last.voltageMean,
                  current: last.currentMean,
                },
                district: district === undefined ? undefined : districts.get(district),
              }),
            );
        }
        s.hour = hour;
        s.sum = 0;
        s.count = 0;
        s.whole = true;
        s.starts.clear();
      }
      if (s.starts.has(w.windowStart)) continue;
      s.starts.add(w.windowStart);
      s.sum += w.consumptionSum;
      s.count += w.count;
      if (!s.lastWindow || w.windowStart >= s.lastWindow.windowStart) s.lastWindow = w;
    }
    await this.batch.flush();
  }

  private sensor(key: string, hour: number, firstStart: number): SensorHours {
    // most recently seen last: the sensor seen least recently is the one to go
    let s = this.sensors.touch(key);
    if (s) return s;
    // a first hour seen from its middle (a restart, a reassigned partition) would have a partial
    // sum: it is never a label
    s = {
      hour,
      sum: 0,
      count: 0,
      whole: firstStart === hour,
      starts: new Set(),
      closed: [],
      lastWindow: undefined,
    };
    this.sensors.set(key, s);
    return s;
  }

  private districtHours(keys: readonly string[]) {
    return districtHoursOfSensors(keys, this.deps.districtOf, this.deps.districtHours);
  }
}

/** a final sensor window of the utility topic as the forecast reads it; undefined for anything else */
export function utilityWindowRow(window: WindowResult): UtilityWindowRow | undefined {
  if (window.scope !== "sensor" || !window.final || window.type !== "utility") return undefined;
  const consumption = window.fields.consumption;
  if (!consumption || window.count === 0) return undefined;
  return {
    key: window.key,
    windowStart: window.window_start,
    windowMs: window.window_end - window.window_start,
    count: window.count,
    consumptionSum: consumption.sum,
    consumptionMean: consumption.mean,
    consumptionMax: consumption.max,
    voltageMean: window.fields.voltage?.mean ?? null,
    currentMean: window.fields.current?.mean ?? null,
  };
}
