import { expect, test } from "bun:test";
import { loadModelVersion } from "../../../ml/lifecycle/model-artifacts.ts";
import { forecastTrainingSet } from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { MlflowModelRegistry } from "../../../ml/registry/mlflow/mlflow-model-registry.ts";
import { CHAMPION } from "../../../ml/registry/model-registry.ts";
import { MlflowTrackingStore } from "../../../ml/tracking/mlflow/mlflow-tracking-store.ts";
import { mlflowUrl, requireMlflow, uniqueMlflowName } from "../../../testkit/mlflow-server.ts";
import { trafficWindowHistory } from "../../../testkit/traffic-windows.ts";

await requireMlflow();

test("on the real MLflow server: a training run is tracked with its artifacts, registered, aliased and loaded back", async () => {
  const tracking = new MlflowTrackingStore({ url: mlflowUrl });
  const registry = new MlflowModelRegistry({ url: mlflowUrl });
  const model = uniqueMlflowName("forecast");
  const set = forecastTrainingSet(trafficWindowHistory({ sensors: 3, windows: 400 }), {
    table: "gold_traffic_windows",
    tableVersion: 4,
    views: [{ name: "sensor_traffic_window", version: 1 }],
  });
  const trained = await trainTrackAndRegister(tracking, registry, {
    model,
    experiment: model,
    set,
    learner: { kind: "gradient-boosting", params: { nTrees: 20, maxDepth: 4, maxBins: 32 } },
    by: "mlflow-test",
    reason: "first training",
  });
  await registry.setAlias(model, CHAMPION, trained.version.version, {
    by: "mlflow-test",
    reason: "first version",
  });

  // what the MLflow UI shows for the version: its run, with metrics and the model file
  const page = (await (
    await fetch(`${mlflowUrl}/api/2.0/mlflow/model-versions/get?name=${model}&version=1`)
  ).json()) as { model_version: { run_id: string; source: string; aliases?: string[] } };
  expect(page.model_version.run_id).toBe(trained.runId);
  expect(page.model_version.source).toBe(`runs:/${trained.runId}/model`);
  expect(page.model_version.aliases).toEqual([CHAMPION]);
  const run = await tracking.getRun(trained.runId);
  expect(run.metrics.holdout_rmse?.value).toBeCloseTo(trained.holdout.rmse, 8);
  expect(run.tags["training_set.views"]).toBe("sensor_traffic_window:v1");
  expect((await tracking.listArtifacts(trained.runId)).map((a) => a.path)).toContain("model/model.json");

  const loaded = await loadModelVersion(tracking, registry, model, "1");
  expect(loaded.ensemble.predict(set.rows[0]!)).toBeCloseTo(loaded.ensemble.predict(set.rows[0]!), 12);
  expect(loaded.ensemble.treeCount).toBe(20);
}, 60_000);
