import { expect, test } from "bun:test";
import { MlflowTrackingStore } from "../../../../ml/tracking/mlflow/mlflow-tracking-store.ts";
import { ensureExperiment } from "../../../../ml/tracking/tracking-store.ts";
import { mlflowUrl, requireMlflow, uniqueMlflowName } from "../../../../testkit/mlflow-server.ts";
import { trackingStoreContract } from "../tracking-store.contract.ts";

await requireMlflow();

trackingStoreContract(
  "MLflow (real tracking server, REST API)",
  async () => new MlflowTrackingStore({ url: mlflowUrl }),
);

test("a run the platform logs is what the MLflow UI reads: its REST run view has the metrics, the parameters and the artifacts", async () => {
  const store = new MlflowTrackingStore({ url: mlflowUrl });
  const experiment = await ensureExperiment(store, uniqueMlflowName("ui"));
  const run = await store.createRun({ experimentId: experiment.id, name: "traffic-gbt" });
  await store.logParams(run.runId, { nTrees: 50 });
  await store.logMetrics(run.runId, [{ key: "holdout_rmse", value: 0.5, step: 0, timestamp: Date.now() }]);
  await store.logArtifact(run.runId, "model/model.json", new TextEncoder().encode("{}"));
  await store.endRun(run.runId, "FINISHED");

  // the UI's own calls: the run page (runs/get) and its artifact browser (artifacts/list)
  const page = (await (await fetch(`${mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${run.runId}`)).json()) as {
    run: {
      info: { status: string };
      data: { metrics: { key: string; value: number }[]; params: { key: string }[] };
    };
  };
  expect(page.run.info.status).toBe("FINISHED");
  expect(page.run.data.metrics).toContainEqual(expect.objectContaining({ key: "holdout_rmse", value: 0.5 }));
  expect(page.run.data.params).toContainEqual(expect.objectContaining({ key: "nTrees" }));
  const listing = (await (
    await fetch(`${mlflowUrl}/api/2.0/mlflow/artifacts/list?run_id=${run.runId}&path=model`)
  ).json()) as { files?: { path: string }[] };
  expect(listing.files?.map((f) => f.path)).toEqual(["model/model.json"]);
  const ui = await fetch(`${mlflowUrl}/`);
  expect(ui.status).toBe(200);
  await ui.text();
  await store.close();
});

test("an MLflow server that does not answer is TRACKING_UNAVAILABLE, not a crash", async () => {
  const store = new MlflowTrackingStore({ url: "http://127.0.0.1:9", timeoutMs: 1000 });
  let code: string | undefined;
  try {
    await store.experimentByName("any");
  } catch (error) {
    code = (error as { code?: string }).code;
  }
  expect(code).toBe("TRACKING_UNAVAILABLE");
});
