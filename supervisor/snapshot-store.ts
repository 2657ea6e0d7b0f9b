/**
 * Where passivated actors keep their state until their next message. The in-memory store is
 * the default; a changelog-backed store (compacted log topic, Kafka Streams' model) implements
 * the same interface. Methods may be synchronous or return promises.
 */
export interface SnapshotStore {
  save(address: string, state: unknown): void | Promise<void>;
  load(address: string): unknown | Promise<unknown>;
  delete(address: string): void | Promise<void>;
}

export class InMemorySnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, unknown>();

  save(address: string, state: unknown): void {
    this.snapshots.set(address, state);
  }

  load(address: string): unknown {
    return this.snapshots.get(address);
  }

  delete(address: string): void {
    this.snapshots.delete(address);
  }

  get size(): number {
    return this.snapshots.size;
  }
}
