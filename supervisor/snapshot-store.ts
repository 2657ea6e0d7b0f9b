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

/**
 * Keeps each snapshot as its JSON text instead of the object graph: a passivated sensor's
 * state is ~0.8-2.5 KB of JSON but several times that as live objects, and a flood of new keys
 * leaves one snapshot per key behind. Snapshots must be plain JSON data (what `toSnapshot`
 * gives) or bytes: an actor whose snapshot is bytes (its own encoding) gets them back as they
 * are, and bytes that start with `{` are UTF-8 JSON text (a changelog record restored as
 * stored), parsed on `load`. `load` returns a fresh copy.
 */
const JSON_OBJECT = 0x7b; // "{"
const utf8 = new TextDecoder("utf-8", { fatal: true });

export class SerializedSnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, string | Uint8Array>();

  save(address: string, state: unknown): void {
    if (state === undefined) {
      this.snapshots.delete(address);
      return;
    }
    this.snapshots.set(address, state instanceof Uint8Array ? state : JSON.stringify(state));
  }

  load(address: string): unknown {
    const saved = this.snapshots.get(address);
    if (saved === undefined) return undefined;
    if (typeof saved === "string") return JSON.parse(saved);
    return saved[0] === JSON_OBJECT ? JSON.parse(utf8.decode(saved)) : saved.slice();
  }

  delete(address: string): void {
    this.snapshots.delete(address);
  }

  get size(): number {
    return this.snapshots.size;
  }
}
