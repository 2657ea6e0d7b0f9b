import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { TreeEnsemble } from "../../ml/tree/tree-ensemble.ts";
import type { Props } from "../../supervisor/actor.ts";

/**
 * model-version/<model>@<version>: one shard per served (model, version), holding that
 * version's trees. A request carries its rows and a reply; the shard answers in mailbox order.
 * Hot swap is the serving layer starting the new version's shard before it routes to it, and
 * sending the old one `retire`, which sits behind every request already queued: the old shard
 * answers all of them, then stops. Nothing in flight is dropped.
 */
export type VersionShardMessage =
  | {
      readonly type: "score";
      /** row-major, featureCount values per row */
      readonly matrix: Float64Array;
      readonly rows: number;
      readonly reply: (values: Float64Array, millis: number) => void;
      readonly fail: (error: PlatformError) => void;
    }
  | { readonly type: "retire"; readonly done: () => void };

export interface VersionShardState {
  scored: number;
}

export const VERSION_SHARD_KIND = "model-version";

export function versionShardKey(model: string, version: string): string {
  return `${model}@${version}`;
}

export function versionShardProps(
  ensembleOf: (key: string) => TreeEnsemble | undefined,
  hrtimeMs: () => number,
): Props<VersionShardMessage, VersionShardState> {
  return {
    kind: VERSION_SHARD_KIND,
    mailbox: { capacity: 16_384, overflow: "backpressure" },
    initialState: () => ({ scored: 0 }),
    receive(ctx, message) {
      if (message.type === "retire") {
        ctx.stop();
        message.done();
        return;
      }
      const ensemble = ensembleOf(ctx.key);
      if (!ensemble) {
        message.fail(
          new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `version ${ctx.key} is not loaded on this node`),
        );
        return;
      }
      const started = hrtimeMs();
      const values = ensemble.predictBatch(message.matrix);
      ctx.state.scored += message.rows;
      message.reply(values, hrtimeMs() - started);
    },
  };
}
