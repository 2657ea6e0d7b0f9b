import type { FeedHub } from "../api/feeds/feed-hub.ts";
import type { LiveView } from "../api/live-view.ts";
import type { PlatformMetrics } from "../api/metrics.ts";
import { ChangelogStore } from "../log/changelog/changelog-store.ts";
import type { Log } from "../log/log.ts";
import type { RecordCodec } from "../messages/codec/record-codec.ts";
import { ErrorCodes, isPlatformError } from "../messages/errors.ts";
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

/** per metrics registry (one per node), the kinds whose first corrupt changelog state was said */
const corruptKindsSaid = new WeakMap<object, Set<string>>();

/**
 * A changelog state that does not decode (read by a store, or restored as bytes and refused by
 * the actor that owns its key): the key starts empty. Counted like any dead letter, and said
 * once per kind with its key and reason; the metric counts the rest. A restore of a million keys
 * from a damaged changelog must not write a million lines.
 */
export function countCorruptChangelog({
  metrics,
}: Pick<NodeContext, "metrics">): (kind: string, key?: string | null, error?: unknown) => void {
  return (kind, key, error) => {
    metrics.deadLetters.inc({ source: `changelog:${kind}`, code: ErrorCodes.DECODE_FAILED });
    let said = corruptKindsSaid.get(metrics);
    if (!said) {
      said = new Set();
      corruptKindsSaid.set(metrics, said);
    }
    if (said.has(kind)) return;
    said.add(kind);
    const why = isPlatformError(error) ? `does not decode (${error.message})` : "does not decode";
    console.error(
      `changelog ${kind}: the state of ${key ?? "a record without a key"} ${why}; that key starts empty (further ones are counted in platform_dead_letters_total{source="changelog:${kind}"})`,
    );
  };
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
    onCorrupt: (key, _partition, _offset, error) => countCorruptChangelog(node)(kind, key, error),
  });
}
