import type { Prediction } from "../../messages/prediction.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import {
  type DistrictHour,
  FORECAST_FEATURES,
  forecastRow,
  lagsAt,
  type TrafficWindowRow,
} from "../../ml/lifecycle/traffic-forecast-features.ts";
import { districtHoursOfSensors } from "./district-hours.ts";
import { ForecastBatch } from "./forecast-batch.ts";
import type { ModelServing } from "./model-serving.ts";
import { RecentWindows } from "./recent-windows.ts";

/**
 * The live side of the traffic forecast: as a sensor's window closes it labels the forecast
 * made for that window (its live error, the A/B arms, the retraining loop's comparisons), and
 * the registry's version the serving policy routes the sensor to forecasts the sensor's next
 * window from the same row function the training set used (`forecastRow`: lags held here as the
 * windows close, the district's last hour from the online store). Every forecast is published
 * as a prediction (ml.predictions, the lake, the time series, the drift monitor, /ws) with the
 * version that made it. Nothing is forecast while no version is served: no champion yet.
 */
export interface TrafficForecasterDeps {
  readonly serving: ModelServing;
  readonly model: string;
  readonly publish: (prediction: Prediction) => void;
  readonly districtOf?: (sensorId: string) => string | undefined;
  /** each district's last complete hour, from the online store */
  readonly districtHours?: (districts: readonly string[]) => Promise<ReadonlyMap<string, DistrictHour>>;
  readonly now: () => number;
  readonly hrtimeMs: () => number;
  readonly utcOffsetMinutes?: number;
}

export class TrafficForecaster {
  private readonly recent = new RecentWindows();
  private readonly batch: ForecastBatch;

  constructor(private readonly deps: TrafficForecasterDeps) {
    this.batch = new ForecastBatch({ ...deps, featureNames: FORECAST_FEATURES });
  }

  get forecasts(): number {
    return this.batch.forecasts;
  }

  /** closed windows (any order): label, remember, forecast each sensor's next window */
  async closed(windows: readonly TrafficWindowRow[]): Promise<void> {
    const { serving, model } = this.deps;
    const served = serving.policyOf(model) !== undefined;
    const rows = [...windows].sort((a, b) => a.windowStart - b.windowStart);
    const districts = served ? await this.districtHours(rows) : new Map<string, DistrictHour>();
    for (const row of rows) {
      if (served) await this.batch.label(row.key, row.windowStart, row.vehicleCountMean);
      // a window seen before (a replay) was forecast from then; its lags are behind us now
      if (!this.recent.add(row) || !served) continue;
      const target = row.windowStart + row.windowMs;
      const district = this.deps.districtOf?.(row.key);
      const features = forecastRow(
        {
          target,
          lags: lagsAt(this.recent.of(row.key), target, row.windowMs),
          district: district === undefined ? undefined : districts.get(district),
        },
        this.deps.utcOffsetMinutes ?? 0,
      );
      this.batch.add(row.key, target, target + row.windowMs, features);
    }
    await this.batch.flush();
  }

  private districtHours(rows: readonly TrafficWindowRow[]): Promise<ReadonlyMap<string, DistrictHour>> {
    return districtHoursOfSensors(
      rows.map((row) => row.key),
      this.deps.districtOf,
      this.deps.districtHours,
    );
  }
}

/** a final sensor window of the traffic topic as the forecast reads it; undefined for anything else */
export function trafficWindowRow(window: WindowResult): TrafficWindowRow | undefined {
  if (window.scope !== "sensor" || !window.final || window.type !== "traffic") return undefined;
  const count = window.fields.vehicle_count;
  const speed = window.fields.avg_speed;
  if (!count || !speed || window.count === 0) return undefined;
  return {
    key: window.key,
    windowStart: window.window_start,
    windowMs: window.window_end - window.window_start,
    vehicleCountMean: count.mean,
    vehicleCountMax: count.max,
    avgSpeedMean: speed.mean,
    readingCount: window.count,
  };
}
