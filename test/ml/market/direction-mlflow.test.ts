import { expect, test } from "bun:test";
import { MARKET_DIRECTION_POLICY } from "../../../actors/retrain/forecast-policies.ts";
import { loadModelVersion } from "../../../ml/lifecycle/model-artifacts.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { DIRECTION_FEATURES } from "../../../ml/market/direction-features.ts";
import { MlflowModelRegistry } from "../../../ml/registry/mlflow/mlflow-model-registry.ts";
import { MlflowTrackingStore } from "../../../ml/tracking/mlflow/mlflow-tracking-store.ts";
import { sigmoid } from "../../../ml/tree/boosting-loss.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { mlflowUrl, requireMlflow, uniqueMlflowName } from "../../../testkit/mlflow-server.ts";

await requireMlflow();

test("on the real MLflow server: a market-direction run keeps the classifier's holdout figures, and the version loads back as a classifier", async () => {
  const tracking = new MlflowTrackingStore({ url: mlflowUrl });
  const registry = new MlflowModelRegistry({ url: mlflowUrl });
  const model = uniqueMlflowName("market-direction");
  const random = new SeededRandom(5);
  const rows = Array.from({ length: 1_500 }, () => DIRECTION_FEATURES.map(() => random.next() * 2 - 1));
  const labels = Float64Array.from(rows, (r) => (random.next() < sigmoid(3 * r[0]! - 2 * r[2]!) ? 1 : 0));
  const trained = await trainTrackAndRegister(tracking, registry, {
    model,
    experiment: model,
    set: {
      rows,
      labels,
      featureNames: DIRECTION_FEATURES,
      lineage: {
        table: "gold_market_indicators",
        tableVersion: 7,
        views: [{ name: "symbol_indicators_1m", version: 1 }],
      },
    },
    learner: MARKET_DIRECTION_POLICY.learner,
    by: "mlflow-test",
    reason: "first training",
  });
  const run = await tracking.getRun(trained.runId);
  for (const key of ["holdout_log_loss", "holdout_auc", "holdout_precision", "holdout_recall", "holdout_f1"])
    expect(run.metrics[key]?.value).toBeGreaterThan(0);
  expect(run.metrics.holdout_auc!.value).toBeGreaterThan(0.7);
  expect(run.tags["training_set.views"]).toBe("symbol_indicators_1m:v1");
  const version = (await registry.listVersions(model))[0]!;
  expect(Number(version.tags.holdout_auc)).toBeCloseTo(run.metrics.holdout_auc!.value, 8);
  const loaded = await loadModelVersion(tracking, registry, model, "1");
  const p = loaded.ensemble.predict(rows[0]!);
  expect(p).toBeGreaterThan(0);
  expect(p).toBeLessThan(1);
}, 60_000);
