import { driftInputOf } from "../actors/drift/drift-monitor.ts";
import { typeWindowInputOf } from "../actors/type-window/type-window.ts";
import { aggregateOf, RepartitionedAggregates } from "../engine/repartitioned-aggregates.ts";
import { ChangelogStore } from "../log/changelog/changelog-store.ts";
import type { Log } from "../log/log.ts";
import type { RecordCodec } from "../messages/codec/record-codec.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import type { PlatformError } from "../messages/errors.ts";
import { Topics } from "../messages/topics.ts";
import type { ActorSystem, SnapshotStore } from "../supervisor/index.ts";
import type { NodeConfig } from "./config.ts";

/**
 * The node's single-owner aggregates: per-type windows (final per-sensor windows re-keyed by
 * type) and drift monitors (predictions re-keyed by model), each through its repartition topic,
 * with its state in its own changelog. The consumer group is `<app>-aggregates`, apart from the
 * input's, so the two assignments do not constrain each other.
 */
export interface NodeAggregates {
  readonly engine: RepartitionedAggregates;
  readonly topics: { readonly typeWindows: string; readonly drift: string };
}

/** the repartition topics of an application's single-owner aggregates */
export function aggregateTopics(applicationId: string): NodeAggregates["topics"] {
  return {
    typeWindows: Topics.repartitionOf(applicationId, "type-windows"),
    drift: Topics.repartitionOf(applicationId, "drift"),
  };
}

export async function openAggregates(deps: {
  readonly config: NodeConfig;
  readonly log: Log;
  readonly codec: RecordCodec;
  readonly system: ActorSystem;
  readonly snapshots: SnapshotStore;
  readonly partitions: number;
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onCorrupt: (kind: string, key: string | null, error: unknown) => void;
  readonly onTransientError: (error: PlatformError) => void;
  readonly onError: (error: unknown) => void;
  /** the output router's flush: a checkpoint commits only after the outputs are durable */
  readonly flushOutputs: () => Promise<void>;
}): Promise<NodeAggregates> {
  const { config, log, partitions } = deps;
  const topics = aggregateTopics(config.applicationId);
  const store = (kind: string) =>
    ChangelogStore.open({
      log,
      applicationId: config.applicationId,
      kind,
      partitions,
      restoreConcurrency: 2,
      onCorrupt: (key, _partition, _offset, error) => deps.onCorrupt(kind, key, error),
    });
  // a repartition record is JSON (or Confluent-framed); each actor checks it is of its shape
  const decode = deps.codec.decode;
  const engine = new RepartitionedAggregates({
    log,
    groupId: `${config.applicationId}-aggregates`,
    partitions,
    system: deps.system,
    snapshots: deps.snapshots,
    commitIntervalMs: config.commitIntervalMs,
    aggregates: [
      aggregateOf({
        topic: topics.typeWindows,
        kind: "type-window",
        store: await store("type-window"),
        decode,
        input: typeWindowInputOf,
        wake: { type: "tick" },
      }),
      aggregateOf({
        topic: topics.drift,
        kind: "drift",
        store: await store("drift-monitor"),
        decode,
        input: driftInputOf,
        // a monitor restored on another node runs (and evaluates) without waiting for a prediction
        wake: { type: "evaluate" },
      }),
    ],
    onDeadLetter: deps.onDeadLetter,
    ...(deps.codec.refresh ? { refreshSchemas: deps.codec.refresh } : {}),
    onTransientError: deps.onTransientError,
    onError: deps.onError,
    flushOutputs: deps.flushOutputs,
    now: Date.now,
  });
  return { engine, topics };
}
