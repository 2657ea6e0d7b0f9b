import { ChangelogStore } from "../log/changelog/changelog-store.ts";
import { RestoreSlots } from "../log/changelog/restore-slots.ts";
import { storedBytesCodec } from "../log/changelog/state-codec.ts";
import type { Log } from "../log/log.ts";
import type { StatefulKind } from "../messages/host-protocol.ts";
import type { StateRestorer } from "./state-restorer.ts";

/**
 * The node's durable actor state: one compacted changelog per stateful kind (Kafka Streams'
 * model), with the input topic's partition count, so partition p's state sits in changelog
 * partition p. Workers publish state on checkpoints; it is buffered here and flushed before
 * the dispatcher commits. Restores read one partition at a time: on two cores that brought the
 * first partition back soonest and all of them fastest (bench/failover-restore.ts).
 */

export const STATEFUL_KINDS: readonly StatefulKind[] = ["sensor", "window"];

export interface ActorStateStores extends StateRestorer {
  save(kind: StatefulKind, key: string, partition: number, state: unknown): void;
  flush(): Promise<void>;
  stats(): Record<string, { recordsWritten: number; flushes: number; restoredKeys: number }>;
}

export async function openActorStateStores(
  log: Log,
  options: {
    applicationId: string;
    partitions: number;
    onCorrupt?: (kind: string, key: string | null) => void;
  },
): Promise<ActorStateStores> {
  const stores = new Map<StatefulKind, ChangelogStore>();
  for (const kind of STATEFUL_KINDS)
    stores.set(
      kind,
      await ChangelogStore.open({
        log,
        applicationId: options.applicationId,
        kind,
        partitions: options.partitions,
        restoreConcurrency: 1,
        // small appends: a checkpoint of thousands of actors must not hold the main thread in
        // one long write
        flushBatchRecords: 500,
        // state arrives from the workers as bytes (actor-state records) and goes back as stored
        codec: storedBytesCodec,
        onCorrupt: (key) => options.onCorrupt?.(kind, key),
      }),
    );
  let restoredKeys = 0;
  /**
   * One partition at a time, its keys handed on before the next one is read. With the sends
   * outside the store's own turn, the next partitions' reads interleaved with the first one's
   * sends (an await per key) and the first partition came back with the last: 2.6 s for both at
   * 1M keys instead of a twelfth of it (bench/failover-restore.ts).
   */
  const turns = new RestoreSlots(1);
  /** lost partitions, until restored: the state a worker still sends for them is not written */
  const discarded = new Set<number>();
  return {
    save(kind, key, partition, state) {
      if (discarded.has(partition)) return;
      stores.get(kind)?.put(partition, key, state);
    },
    discard(partitions) {
      for (const partition of partitions) discarded.add(partition);
      for (const store of stores.values()) store.discard(partitions);
    },
    async flush() {
      await Promise.all([...stores.values()].map((store) => store.flush()));
    },
    async restore(partitions, send) {
      for (const partition of partitions) discarded.delete(partition);
      for (const partition of partitions)
        await turns.run(async () => {
          for (const [kind, store] of stores) {
            const restored = await store.restorePartition(partition);
            for (const [key, state] of restored.states) {
              await send(partition, kind, key, state as Uint8Array);
              restoredKeys++;
            }
          }
        });
    },
    stats() {
      return Object.fromEntries(
        [...stores].map(([kind, store]) => {
          const stats = store.stats();
          return [kind, { recordsWritten: stats.recordsWritten, flushes: stats.flushes, restoredKeys }];
        }),
      );
    },
  };
}
