import type { FeedHub } from "../api/feeds/feed-hub.ts";
import type { LiveView } from "../api/live-view.ts";
import type { PlatformMetrics } from "../api/metrics.ts";
import { ChangelogStore } from "../log/changelog/changelog-store.ts";
import type { Log } from "../log/log.ts";
import type { RecordCodec } from "../messages/codec/record-codec.ts";
import { ErrorCodes } from "../messages/errors.ts";
import type { NodeConfig } from "./config.ts";
import type { NodeFailures } from "./failures.ts";

/** What every part of a node is wired with: its settings, its log, and where it reports. */
export interface NodeContext {
  readonly config: NodeConfig;
  readonly log: Log;
  readonly codec: RecordCodec;
  /** partitions of the input topic */
  readonly partitions: number;
  readonly feeds: FeedHub;
  readonly metrics: PlatformMetrics;
  readonly view: LiveView;
  readonly failures: NodeFailures;
  /** the progress line's counters */
  readonly counters: { ingested: number; rejected: number; outputs: number; alerts: number };
}

/** a changelog record that does not decode is skipped and counted like any dead letter */
export function countCorruptChangelog({ metrics }: Pick<NodeContext, "metrics">): (kind: string) => void {
  return (kind) => metrics.deadLetters.inc({ source: `changelog:${kind}`, code: ErrorCodes.DECODE_FAILED });
}

/** a kind's state store on its changelog topic; a record there that does not decode is counted */
export function openChangelog(
  node: Pick<NodeContext, "config" | "log" | "metrics">,
  kind: string,
  options: { readonly partitions: number; readonly restoreConcurrency?: number },
): Promise<ChangelogStore> {
  return ChangelogStore.open({
    log: node.log,
    applicationId: node.config.applicationId,
    kind,
    ...options,
    onCorrupt: () => countCorruptChangelog(node)(kind),
  });
}
