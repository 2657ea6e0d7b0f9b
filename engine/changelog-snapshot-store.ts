import type { PartitionRestore, StateStore } from "../log/changelog/state-store.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { partitionFor } from "../messages/murmur2.ts";
import type { SnapshotStore } from "../supervisor/snapshot-store.ts";

export interface ChangelogSnapshotStoreOptions {
  /** the state store of each kind whose snapshots must be durable; other kinds stay in memory */
  readonly storeOf: (kind: string) => StateStore | undefined;
  /**
   * the input partition of an address; default: `partitionFor(key, store.partitions)` with the
   * key after the first "/" of `kind/key`, which is where the key's input records live
   */
  readonly partitionOf?: (address: string, partitions: number) => number;
}

/**
 * The actor runtime's SnapshotStore (supervisor/snapshot-store.ts) over StateStores, so
 * passivation snapshots outlive the process. Snapshots are kept in memory for `load` and
 * buffered in the kind's store under the address; the node's flush before each offset commit
 * makes them durable. After a partition is assigned, `restorePartition` brings its snapshots
 * back; after it is revoked, `dropPartition` forgets them here (the changelog keeps them).
 */
export class ChangelogSnapshotStore implements SnapshotStore {
  private readonly storeOf: (kind: string) => StateStore | undefined;
  private readonly partitionOf: (address: string, partitions: number) => number;
  /** kind -> partition -> address -> snapshot */
  private readonly snapshots = new Map<string, Map<number, Map<string, unknown>>>();
  private readonly transient = new Map<string, unknown>();

  constructor(options: ChangelogSnapshotStoreOptions) {
    this.storeOf = options.storeOf;
    this.partitionOf = options.partitionOf ?? keyPartition;
  }

  save(address: string, state: unknown): void {
    const kind = kindOf(address);
    const store = this.storeOf(kind);
    if (store === undefined) {
      this.transient.set(address, state);
      return;
    }
    const partition = this.partitionOf(address, store.partitions);
    store.put(partition, address, state);
    this.partition(kind, partition).set(address, state);
  }

  load(address: string): unknown {
    const kind = kindOf(address);
    const store = this.storeOf(kind);
    if (store === undefined) return this.transient.get(address);
    return this.snapshots.get(kind)?.get(this.partitionOf(address, store.partitions))?.get(address);
  }

  delete(address: string): void {
    const kind = kindOf(address);
    const store = this.storeOf(kind);
    if (store === undefined) {
      this.transient.delete(address);
      return;
    }
    const partition = this.partitionOf(address, store.partitions);
    store.delete(partition, address);
    this.snapshots.get(kind)?.get(partition)?.delete(address);
  }

  /** load the durable snapshots of one input partition of `kind` (call when it is assigned) */
  async restorePartition(kind: string, partition: number): Promise<PartitionRestore> {
    const store = this.storeOf(kind);
    if (store === undefined) {
      throw new PlatformError(ErrorCodes.UNKNOWN_ACTOR_KIND, `no state store for actor kind ${kind}`, {
        details: { kind },
      });
    }
    const { states, ...restored } = await store.restorePartition(partition);
    // snapshots saved while the restore ran are newer than the changelog's
    const current = this.partition(kind, partition);
    if (current.size === 0) this.snapshots.get(kind)!.set(partition, states);
    else for (const [address, state] of states) if (!current.has(address)) current.set(address, state);
    return restored;
  }

  /** forget the snapshots of a revoked partition (flush the kind's store first) */
  dropPartition(kind: string, partition: number): void {
    this.snapshots.get(kind)?.delete(partition);
  }

  /** snapshots held in memory, all kinds */
  get size(): number {
    let size = this.transient.size;
    for (const partitions of this.snapshots.values())
      for (const entries of partitions.values()) size += entries.size;
    return size;
  }

  private partition(kind: string, partition: number): Map<string, unknown> {
    let partitions = this.snapshots.get(kind);
    if (partitions === undefined) {
      partitions = new Map();
      this.snapshots.set(kind, partitions);
    }
    let entries = partitions.get(partition);
    if (entries === undefined) {
      entries = new Map();
      partitions.set(partition, entries);
    }
    return entries;
  }
}

function kindOf(address: string): string {
  const slash = address.indexOf("/");
  return slash < 0 ? address : address.slice(0, slash);
}

function keyPartition(address: string, partitions: number): number {
  return partitionFor(address.slice(address.indexOf("/") + 1), partitions);
}
