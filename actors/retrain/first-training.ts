import type { HealthCheck } from "../../api/health.ts";
import type { FeatureStore } from "../../features/feature-store.ts";
import type { ModelEvent } from "../model-shard/model-events.ts";

/**
 * A model's first version, on a registry that has none: nothing is derived at start (no formula
 * model, no simulated history). The node waits until the offline store holds `minRows` labelled
 * rows, then starts the loop's first training once, on the feature store's point-in-time set;
 * the loop registers that version as champion and serves it. Until then the `models` feed and
 * /health say "no champion yet" and why (waiting for rows, training, the feature store off).
 * A node that restarts finds the champion in the registry and serves it: this never runs again.
 */
export interface FirstTrainingDeps {
  readonly model: string;
  readonly store: FeatureStore | undefined;
  readonly minRows: number;
  readonly count: (store: FeatureStore) => Promise<number>;
  readonly served: () => boolean;
  readonly idle: () => boolean;
  readonly trigger: (reason: string) => boolean;
  readonly onEvent: (event: ModelEvent) => void;
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
}

export interface FirstTraining {
  /** looks at the offline store and starts the training when there is enough; one look at a time */
  check(): Promise<void>;
  /** "no champion yet: ..." while the model has none, undefined once it is served */
  status(): string | undefined;
  readonly health: HealthCheck;
}

export function firstTraining(deps: FirstTrainingDeps): FirstTraining {
  const now = deps.now ?? Date.now;
  let status: string | undefined;
  let phase: string | undefined;
  let checking = false;
  const say = (next: string, text: string) => {
    status = `no champion yet: ${text}`;
    if (next === phase) return;
    phase = next;
    deps.onEvent({ type: "no-champion", model: deps.model, by: "node", reason: status, at: now() });
  };
  return {
    async check() {
      if (checking) return;
      if (deps.served()) {
        status = undefined;
        phase = "served";
        return;
      }
      if (!deps.store) {
        say(
          "no-store",
          "the feature store is off on this node (FEATURES=off), so no first version trains here",
        );
        return;
      }
      if (!deps.idle()) {
        say("training", "the first version is training on the offline store's point-in-time set");
        return;
      }
      checking = true;
      try {
        const rows = await deps.count(deps.store);
        if (rows >= deps.minRows && deps.idle() && !deps.served()) {
          say("training", `the first version is training on ${rows} labelled rows of the offline store`);
          deps.trigger(
            `first training: ${rows} labelled rows in the offline store (at least ${deps.minRows})`,
          );
        } else {
          say(
            "waiting",
            `the first version trains once the offline store holds ${deps.minRows} labelled rows (${rows} now)`,
          );
        }
      } catch (error) {
        deps.onError(error);
      } finally {
        checking = false;
      }
    },
    // served now is served: the status of the last look may be older than the first version
    status: () => (deps.served() ? undefined : status),
    health: {
      name: `model ${deps.model}`,
      // not a failure: the node serves everything else, and says what the model waits for
      check: () => (deps.served() || status === undefined ? { ok: true } : { ok: true, reason: status }),
    },
  };
}
