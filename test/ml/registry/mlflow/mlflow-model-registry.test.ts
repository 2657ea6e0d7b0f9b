import { MlflowModelRegistry } from "../../../../ml/registry/mlflow/mlflow-model-registry.ts";
import { MlflowTrackingStore } from "../../../../ml/tracking/mlflow/mlflow-tracking-store.ts";
import { ensureExperiment } from "../../../../ml/tracking/tracking-store.ts";
import { mlflowUrl, requireMlflow, uniqueMlflowName } from "../../../../testkit/mlflow-server.ts";
import { modelRegistryContract } from "../model-registry.contract.ts";

await requireMlflow();
const tracking = new MlflowTrackingStore({ url: mlflowUrl });
const experiment = await ensureExperiment(tracking, uniqueMlflowName("registry"));

modelRegistryContract(
  "MLflow Model Registry (real server, REST API)",
  async () => new MlflowModelRegistry({ url: mlflowUrl }),
  async () => (await tracking.createRun({ experimentId: experiment.id, name: "registered" })).runId,
);
