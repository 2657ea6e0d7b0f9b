import { ChangelogStore } from "../log/changelog/changelog-store.ts";
import { RestoreSlots } from "../log/changelog/restore-slots.ts";
import { storedBytesCodec } from "../log/changelog/state-codec.ts";
import type { Log } from "../log/log.ts";
import type { PlatformError } from "../messages/errors.ts";
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
/** the order a checkpoint's states become durable in: a kind after the kinds it feeds */
const FLUSH_ORDER: readonly StatefulKind[] = ["window", "sensor"];

export interface ActorStateStores extends StateRestorer {
  save(kind: StatefulKind, key: string, partition: number, state: unknown): void;
  /**
   * a restored state its actor could not decode (state is restored as bytes and decoded only by
   * the actor): counted and reported like a record the store itself could not decode
   */
  corrupt(kind: StatefulKind, key: string, error: PlatformError): void;
  flush(): Promise<void>;
  stats(): Record<
    string,
    { recordsWritten: number; flushes: number; restoredKeys: number; corruptStates: number }
  >;
}

/** a changelog state that does not decode: the kind, its key (null: a record without one), why */
export type CorruptStateHandler = (kind: string, key: string | null, error: unknown) => void;

export async function openActorStateStores(
  log: Log,
  options: {
    applicationId: string;
    partitions: number;
    onCorrupt?: CorruptStateHandler;
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
        onCorrupt: (key, _partition, _offset, error) => options.onCorrupt?.(kind, key, error),
      }),
    );
  let restoredKeys = 0;
  /** per kind, states its actors could not decode (the stores count those they could not) */
  const undecodedByActors = new Map<string, number>();
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
    corrupt(kind, key, error) {
      undecodedByActors.set(kind, (undecodedByActors.get(kind) ?? 0) + 1);
      options.onCorrupt?.(kind, key, error);
    },
    discard(partitions) {
      for (const partition of partitions) discarded.add(partition);
      for (const store of stores.values()) store.discard(partitions);
    },
    async flush() {
      // A sensor actor skips a replayed reading up to its own applied offset before it tells
      // the window actor, so its state must never be durable ahead of its windows': a kill -9
      // between the two appends would leave the replay's readings in no window. Windows first
      // (their own offsets skip what they already hold), then the sensors.
      for (const kind of FLUSH_ORDER) await stores.get(kind)?.flush();
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
          const corruptStates = stats.corruptRecords + (undecodedByActors.get(kind) ?? 0);
          return [
            kind,
            { recordsWritten: stats.recordsWritten, flushes: stats.flushes, restoredKeys, corruptStates },
          ];
        }),
      );
    },
  };
}
