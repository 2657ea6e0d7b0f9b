import { afterEach, beforeEach, expect, test } from "bun:test";
import { TrafficForecaster, trafficWindowRow } from "../../../actors/model-shard/traffic-forecaster.ts";
import type { Prediction } from "../../../messages/prediction.ts";
import {
  FORECAST_FEATURES,
  forecastFeatures,
  forecastTrainingSet,
} from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { type LifecycleBench, lifecycleBench } from "../../../testkit/model-lifecycle.ts";
import { trafficWindowHistory, trafficWindowResult } from "../../../testkit/traffic-windows.ts";

/**
 * The live traffic forecast: each closed window labels the forecast made for it, and the
 * sensor's next window is forecast from the same row function as the training set's.
 */
const MODEL = "traffic-forecast";
let b: LifecycleBench;
let published: Prediction[];
let forecaster: TrafficForecaster;
const history = trafficWindowHistory({ sensors: 2, windows: 60, windowMs: 60_000, seed: 8 }).map((w) => ({
  ...w,
  readingCount: 6,
}));

beforeEach(async () => {
  b = lifecycleBench();
  const set = forecastTrainingSet(trafficWindowHistory({ sensors: 4, windows: 300 }), {
    table: "memory",
    tableVersion: null,
    views: [],
  });
  await trainTrackAndRegister(b.tracking, b.registry, {
    model: MODEL,
    experiment: MODEL,
    set,
    learner: { kind: "gradient-boosting", params: { nTrees: 20, maxDepth: 4, maxBins: 32 } },
    by: "test",
    reason: "first version",
  });
  published = [];
  forecaster = new TrafficForecaster({
    serving: b.serving,
    model: MODEL,
    publish: (p) => published.push(p),
    now: () => 0,
    hrtimeMs: () => 0,
  });
});
afterEach(() => b.close());

test("nothing is forecast while no version is served: no champion yet", async () => {
  await forecaster.closed(history.slice(0, 10));
  expect(published).toEqual([]);
});

test("each window is forecast from the rows the training set would hold for it, with the serving version", async () => {
  await b.serving.deploy(MODEL, { kind: "single", version: "1" }, { by: "test", reason: "serve" });
  for (const row of history) await forecaster.closed([row]);
  expect(published).toHaveLength(history.length);
  const traffic0 = history.filter((w) => w.key === "traffic_0");
  const fifth = published.filter((p) => p.key === "traffic_0")[4]!;
  const expected = forecastFeatures(traffic0.slice(0, 5))!;
  FORECAST_FEATURES.forEach((name, j) => {
    if (Number.isFinite(expected[j]!)) expect(fifth.features[name]).toBe(expected[j]!);
    else expect(fifth.features[name]).toBeUndefined();
  });
  expect(fifth).toMatchObject({ model_version: "1", window_start: traffic0[5]!.windowStart });
});

// regression: labels were joined before the batch's forecasts were made, so a burst (a restart's
// catch-up, a back-fill) in one batch lost the outcome of every forecast made within it
test("a burst of windows in one batch labels every forecast made within it", async () => {
  await b.serving.deploy(MODEL, { kind: "single", version: "1" }, { by: "test", reason: "serve" });
  await forecaster.closed(history);
  expect(published).toHaveLength(history.length);
  // each window after a sensor's first labels the forecast the one before it made
  expect(b.serving.liveOf(MODEL, "1")!.outcomes).toBe(history.length - 2);
  // a replayed batch forecasts nothing twice and labels nothing twice
  await forecaster.closed(history.slice(0, 20));
  expect(published).toHaveLength(history.length);
  expect(b.serving.liveOf(MODEL, "1")!.outcomes).toBe(history.length - 2);
});

test.each([
  ["an open window", { final: false }],
  ["a per-type window", { scope: "type" as const }],
  ["a window without readings", { count: 0 }],
])("%s is not a window to forecast from", (_name, change) => {
  expect(trafficWindowRow({ ...trafficWindowResult(history[0]!), ...change })).toBeUndefined();
});
