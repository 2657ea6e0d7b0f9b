import type { ModelServing } from "../model-shard/model-serving.ts";
import type { RetrainCoordinator } from "./retrain-coordinator.ts";

/**
 * Data drift as a retraining trigger: when the features of a model's recent inputs leave the
 * serving version's reference (KS and PSI against its training statistics), its loop is
 * triggered once, on the change, not on every look while the drift lasts; once the inputs are
 * back the next drift triggers again. The loop then waits for `postChangeLabels` labelled outcomes
 * of the new regime before it trains.
 */
export class DriftTrigger {
  private readonly drifting = new Set<string>();

  constructor(
    private readonly serving: Pick<ModelServing, "driftOf">,
    private readonly loop: Pick<RetrainCoordinator, "trigger">,
  ) {}

  /** looks at the model's drift now; true when this look triggered its loop */
  check(model: string, postChangeLabels: number): boolean {
    const drift = this.serving.driftOf(model);
    const drifted = drift?.features.filter((f) => f.drifted).map((f) => f.name) ?? [];
    if (!drift || drifted.length === 0) {
      this.drifting.delete(model);
      return false;
    }
    if (this.drifting.has(model)) return false;
    this.drifting.add(model);
    this.loop.trigger(
      model,
      `data drift on ${drifted.join(", ")} (KS and PSI against version ${drift.version}'s training reference)`,
      "monitor",
      postChangeLabels,
    );
    return true;
  }
}
