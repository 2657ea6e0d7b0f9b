/**
 * A map with a capacity that forgets its least recently written key when full, and counts
 * what it forgot. Read models keyed by something outsiders choose (sensor ids arrive over MQTT
 * from anyone) use it so that a flood of new keys costs a bounded amount of memory and
 * time instead of growing /api responses and stalling the event loop.
 *
 * A JavaScript Map iterates in insertion order, so deleting and re-inserting a key on write
 * keeps the oldest-written key first: eviction is O(1) without a separate list.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  evictions = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** writes the key as the most recent one, evicting the least recent beyond capacity */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      const evicted = this.entries.get(oldest.value) as V;
      this.entries.delete(oldest.value);
      this.evictions++;
      this.onEvict?.(oldest.value, evicted);
    }
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }
}
