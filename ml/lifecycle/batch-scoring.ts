import type { LoadedModel } from "./model-artifacts.ts";
import { forecastFeatures, type TrafficWindowRow } from "./traffic-forecast-features.ts";

/**
 * Batch scoring: every sensor's forecast for the window after each run of three consecutive
 * windows of a table, by one registered version, as rows of a predictions table. The identity
 * of a row is (model, sensor, forecast window start), the same as the online forecasts', so a
 * batch run and the live ones can be joined or compared; scoring the same windows again gives
 * the same ids.
 */
export interface BatchPrediction {
  readonly prediction_id: string;
  readonly model: string;
  readonly model_version: string;
  readonly key: string;
  readonly window_start: number;
  readonly window_end: number;
  readonly value: number;
  readonly features: string;
}

export function scoreWindows(windows: readonly TrafficWindowRow[], model: LoadedModel): BatchPrediction[] {
  const bySensor = new Map<string, TrafficWindowRow[]>();
  for (const row of windows) {
    const list = bySensor.get(row.key);
    if (list) list.push(row);
    else bySensor.set(row.key, [row]);
  }
  const inputs: { key: string; start: number; end: number; features: Float64Array }[] = [];
  for (const [key, list] of bySensor) {
    list.sort((a, b) => a.windowStart - b.windowStart);
    for (let i = 3; i <= list.length; i++) {
      const history = list.slice(i - 3, i);
      if (!consecutive(history)) continue;
      const last = history[2]!;
      const features = forecastFeatures(history);
      if (features)
        inputs.push({
          key,
          start: last.windowStart + last.windowMs,
          end: last.windowStart + 2 * last.windowMs,
          features,
        });
    }
  }
  const width = model.featureNames.length;
  const matrix = new Float64Array(inputs.length * width);
  inputs.forEach((input, i) => {
    matrix.set(input.features, i * width);
  });
  const values = inputs.length > 0 ? model.ensemble.predictBatch(matrix) : new Float64Array(0);
  return inputs.map((input, i) => ({
    prediction_id: `${model.name}:${input.key}:${input.start}`,
    model: model.name,
    model_version: model.version,
    key: input.key,
    window_start: input.start,
    window_end: input.end,
    value: values[i]!,
    features: JSON.stringify(
      Object.fromEntries(model.featureNames.map((name, j) => [name, input.features[j]!])),
    ),
  }));
}

function consecutive(rows: readonly TrafficWindowRow[]): boolean {
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.windowStart - rows[i - 1]!.windowStart !== rows[i - 1]!.windowMs) return false;
  }
  return true;
}
