import { BoundedMap } from "../messages/bounded-map.ts";

/**
 * A map with a capacity that forgets its least recently written key when full, and counts
 * what it forgot. Read models keyed by something outsiders choose (sensor ids arrive over MQTT
 * from anyone) use it so that a flood of new keys costs a bounded amount of memory and
 * time instead of growing /api responses and stalling the event loop.
 *
 * A write makes the key the newest (`BoundedMap.setNewest`). It was a Map re-inserting the key
 * and deleting `keys().next()` past the capacity, and a full Map that deletes its first entry
 * walks past every entry deleted before: each new sensor past the bound cost more than the last
 * (see messages/bounded-map.ts).
 */
export class LruMap<K, V> {
  private readonly entries: BoundedMap<K, V>;

  constructor(
    readonly capacity: number,
    onEvict?: (key: K, value: V) => void,
  ) {
    this.entries = new BoundedMap(capacity, onEvict);
  }

  get evictions(): number {
    return this.entries.evictions;
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
    this.entries.setNewest(key, value);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** least recently written first */
  values(): IterableIterator<V> {
    return this.entries.values();
  }
}
