import type { Prediction } from "../../messages/prediction.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import {
  HOUR_MS,
  hourStartOf,
  UTILITY_FEATURES,
  type UtilityInputs,
  utilityRow,
} from "../../ml/lifecycle/utility-forecast-features.ts";
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
  private readonly sensors = new Map<string, SensorHours>();
  private forecastCount = 0;

  constructor(private readonly deps: UtilityForecasterDeps) {}

  get forecasts(): number {
    return this.forecastCount;
  }

  async closed(windows: readonly UtilityWindowRow[]): Promise<void> {
    const { serving, model } = this.deps;
    const served = serving.policyOf(model) !== undefined;
    const due: { key: string; inputs: Omit<UtilityInputs, "district"> }[] = [];
    for (const w of [...windows].sort((a, b) => a.windowStart - b.windowStart)) {
      const hour = hourStartOf(w.windowStart);
      const s = this.sensor(w.key, hour, w.windowStart);
      if (hour < s.hour) continue;
      if (hour > s.hour) {
        if (s.whole && s.count > 0) {
          const mean = s.sum / s.count;
          if (served) serving.label(model, w.key, s.hour, mean);
          s.closed = [...s.closed, { hour: s.hour, mean }].slice(-2);
          const before =
            s.closed.length === 2 && s.closed[0]!.hour === s.hour - HOUR_MS ? s.closed[0]! : undefined;
          const last = s.lastWindow;
          due.push({
            key: w.key,
            inputs: {
              target: s.hour + HOUR_MS,
              previousHour: mean,
              hourBefore: before?.mean ?? null,
              lastWindow: last && {
                consumption: last.consumptionMean,
                consumptionMax: last.consumptionMax,
                voltage: last.voltageMean,
                current: last.currentMean,
              },
            },
          });
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
    if (!served || due.length === 0) return;
    const districts = await this.districtHours(due.map((d) => d.key));
    const width = UTILITY_FEATURES.length;
    const matrix = new Float64Array(due.length * width);
    due.forEach((d, i) => {
      const district = this.deps.districtOf?.(d.key);
      matrix.set(
        utilityRow({ ...d.inputs, district: district === undefined ? undefined : districts.get(district) }),
        i * width,
      );
    });
    const started = this.deps.hrtimeMs();
    const answer = await serving.predictRows(model, {
      matrix,
      rows: due.length,
      keys: due.map((d) => d.key),
      times: due.map((d) => d.inputs.target),
    });
    const latencyMs = Math.max(0, this.deps.hrtimeMs() - started);
    const at = this.deps.now();
    due.forEach((d, i) => {
      const features: Record<string, number> = {};
      UTILITY_FEATURES.forEach((name, j) => {
        const value = matrix[i * width + j]!;
        if (Number.isFinite(value)) features[name] = value;
      });
      this.deps.publish({
        prediction_id: `${model}:${d.key}:${d.inputs.target}`,
        model,
        model_version: answer.predictions[i]!.version,
        key: d.key,
        window_start: d.inputs.target,
        window_end: d.inputs.target + HOUR_MS,
        features,
        value: answer.predictions[i]!.value,
        latency_ms: latencyMs,
        at,
      });
    });
    this.forecastCount += due.length;
  }

  private sensor(key: string, hour: number, firstStart: number): SensorHours {
    let s = this.sensors.get(key);
    if (s) {
      // most recently seen last: the sensor seen least recently is the one to go
      this.sensors.delete(key);
      this.sensors.set(key, s);
      return s;
    }
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
    if (this.sensors.size > (this.deps.maxSensors ?? 100_000))
      this.sensors.delete(this.sensors.keys().next().value as string);
    return s;
  }

  private async districtHours(keys: readonly string[]) {
    if (!this.deps.districtHours || !this.deps.districtOf) return new Map();
    const districts = new Set<string>();
    for (const key of keys) {
      const district = this.deps.districtOf(key);
      if (district !== undefined) districts.add(district);
    }
    return districts.size === 0 ? new Map() : this.deps.districtHours([...districts]);
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
