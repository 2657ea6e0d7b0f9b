import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { CHAMPION, type ModelRegistry } from "../../ml/registry/model-registry.ts";
import type { ModelServing } from "../model-shard/model-serving.ts";
import { POLICY_TAG } from "./retrain-coordinator.ts";

/**
 * What the node served before it stopped: the policy kept with the model (its tag) if its
 * versions still exist, else the champion alone; a model the registry does not know serves
 * nothing yet (its first training is `first-training.ts`).
 */
export async function restoreServing(
  serving: Pick<ModelServing, "deploy">,
  registry: Pick<ModelRegistry, "getModel">,
  name: string,
): Promise<void> {
  let champion: string | undefined;
  let kept: string | undefined;
  try {
    const model = await registry.getModel(name);
    champion = model.aliases[CHAMPION];
    kept = model.tags[POLICY_TAG];
  } catch (error) {
    if (isPlatformError(error, ErrorCodes.MODEL_NOT_FOUND)) return;
    throw error;
  }
  if (kept !== undefined) {
    try {
      await serving.deploy(name, JSON.parse(kept), {
        by: "node",
        reason: "restart: the policy kept with the model",
      });
      return;
    } catch (error) {
      if (!isPlatformError(error) && !(error instanceof SyntaxError)) throw error;
      console.error(`the kept serving policy of ${name} could not be deployed; serving its champion alone`);
    }
  }
  if (champion !== undefined) {
    await serving.deploy(
      name,
      { kind: "single", version: champion },
      { by: "node", reason: "restart: the champion" },
    );
  }
}
