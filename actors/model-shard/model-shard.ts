import type { HostOutput } from "../../messages/host-protocol.ts";
import type { Prediction } from "../../messages/prediction.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import type { Props } from "../../supervisor/actor.ts";

/**
 * model/<partition>: a model shard. Scores each closed traffic window of its partition with the
 * deployed model and publishes the prediction with the model version that made it. One shard
 * per partition keeps scoring next to the windows and lets a new model roll out shard by shard.
 */
export type ModelShardMessage =
  | { readonly type: "score"; readonly window: WindowResult; readonly ingestedAt: number }
  | { readonly type: "deploy"; readonly model: DeployedModel };

/** What a shard needs of a model: named features from a window, and a prediction. */
export interface DeployedModel {
  readonly name: string;
  readonly version: string;
  readonly featureNames: readonly string[];
  /** undefined when the window lacks what the model needs */
  features(window: WindowResult): Float64Array | undefined;
  predict(features: Float64Array): number;
}

export interface ModelShardState {
  model: DeployedModel;
  scored: number;
  skipped: number;
}

export interface ModelShardDeps {
  readonly model: DeployedModel;
  readonly emit: (output: HostOutput) => void;
  readonly now: () => number;
  /** a high-resolution clock for the prediction latency */
  readonly hrtimeMs: () => number;
}

export function modelShardProps(deps: ModelShardDeps): Props<ModelShardMessage, ModelShardState> {
  return {
    kind: "model",
    mailbox: { capacity: 65_536, overflow: "backpressure" },
    initialState: (_key, snapshot) => snapshot ?? { model: deps.model, scored: 0, skipped: 0 },
    receive(ctx, message) {
      const state = ctx.state;
      if (message.type === "deploy") {
        state.model = message.model;
        return;
      }
      const { window } = message;
      const started = deps.hrtimeMs();
      const features = state.model.features(window);
      if (!features) {
        state.skipped++;
        return;
      }
      const value = state.model.predict(features);
      const latencyMs = deps.hrtimeMs() - started;
      const named: Record<string, number> = {};
      state.model.featureNames.forEach((name, i) => {
        named[name] = features[i]!;
      });
      const prediction: Prediction = {
        prediction_id: `${state.model.name}:${window.key}:${window.window_start}`,
        model: state.model.name,
        model_version: state.model.version,
        key: window.key,
        window_start: window.window_start,
        window_end: window.window_end,
        features: named,
        value,
        latency_ms: latencyMs,
        at: deps.now(),
      };
      state.scored++;
      deps.emit({ type: "prediction", prediction, ingestedAt: message.ingestedAt });
    },
  };
}
