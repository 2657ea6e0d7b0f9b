import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelVersion } from "../../../ml/lifecycle/model-artifacts.ts";
import { FORECAST_FEATURES, forecastTrainingSet } from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { EmbeddedModelRegistry } from "../../../ml/registry/embedded/embedded-model-registry.ts";
import { EmbeddedTrackingStore } from "../../../ml/tracking/embedded/embedded-tracking-store.ts";
import { trafficWindowHistory } from "../../../testkit/traffic-windows.ts";

const dir = mkdtempSync(join(tmpdir(), "train-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lineage = {
  table: "gold_traffic_windows",
  tableVersion: 12,
  views: [{ name: "sensor_traffic_window", version: 3 }],
};

test("a training job tracks its run (params, holdout metrics, model, importance, lineage) and registers a loadable version", async () => {
  const tracking = EmbeddedTrackingStore.open({ dir });
  const registry = EmbeddedModelRegistry.open({ dir });
  const set = forecastTrainingSet(trafficWindowHistory({ sensors: 6, windows: 1500 }), lineage);
  const trained = await trainTrackAndRegister(tracking, registry, {
    model: "traffic-forecast",
    experiment: "traffic-forecast",
    set,
    learner: { kind: "gradient-boosting", params: { nTrees: 60, maxDepth: 5, maxBins: 64 } },
    by: "test",
    reason: "first training",
  });
  expect(trained.version.version).toBe("1");
  const run = await tracking.getRun(trained.runId);
  expect(run.info.status).toBe("FINISHED");
  expect(run.params).toMatchObject({ nTrees: "60", maxDepth: "5", learner: "gradient-boosting" });
  expect(run.tags).toMatchObject({
    "training_set.table": "gold_traffic_windows",
    "training_set.version": "12",
  });
  expect(run.tags["training_set.views"]).toBe("sensor_traffic_window:v3");
  expect(run.metrics.holdout_rmse?.value).toBeCloseTo(trained.holdout.rmse, 10);
  expect((await tracking.listArtifacts(trained.runId)).map((a) => a.path)).toEqual([
    "feature_importance.json",
    "feature_statistics.json",
    "model/model.json",
    "reference.json",
    "training_set.json",
  ]);

  // the forecast beats persistence (next = last window), so the model adds something
  const n = set.rows.length;
  const cut = n - Math.round(n * 0.2);
  let persistence = 0;
  for (let i = cut; i < n; i++) persistence += (set.labels[i]! - set.rows[i]![3]!) ** 2;
  expect(trained.holdout.rmse).toBeLessThan(Math.sqrt(persistence / (n - cut)));

  const loaded = await loadModelVersion(tracking, registry, "traffic-forecast", "1");
  expect(loaded.featureNames).toEqual([...FORECAST_FEATURES]);
  expect(loaded.ensemble.predict(set.rows[0]!)).toBeCloseTo(loaded.ensemble.predict(set.rows[0]!), 12);
  expect(Object.keys(loaded.reference)).toEqual([...FORECAST_FEATURES]);
  await tracking.close();
  await registry.close();
});

test("too little history is a clear TRAINING_DATA_INVALID, before any run is opened", () => {
  let code: string | undefined;
  try {
    forecastTrainingSet(trafficWindowHistory({ sensors: 1, windows: 10 }), lineage);
  } catch (error) {
    code = (error as { code?: string }).code;
  }
  expect(code).toBe("TRAINING_DATA_INVALID");
});
