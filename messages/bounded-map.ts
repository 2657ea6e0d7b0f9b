/**
 * A Map that holds at most `capacity` entries and forgets its oldest one when a new key would
 * pass the bound: the recent ids a sink or a poller deduplicates against, the per-key read models
 * and caches keyed by what outsiders send. "Oldest" is the order of insertion, as in a Map:
 * `set` of a key it holds keeps the key's place (a deduplication window: a repeat does not renew
 * its age), `setNewest` and `touch` move it to the newest place (least recently used goes first).
 *
 * Why not a Map that deletes `keys().next()` on every add: a JavaScript Map keeps a deleted
 * entry as a hole until it rehashes, and its iterator walks past every hole from the start, so
 * each eviction of a full Map cost more than the last (Bun/JSC, 300,000 adds past 200,000 ids:
 * 11.9 s; see bench/bounded-map.ts). Here the order lives in links of its own (slot indexes in
 * typed arrays, newest and oldest ends), and the Map only finds a key's slot: every operation is
 * O(1) however long it has been full.
 *
 * Lives in messages/, the leaf, because actors, sources, the lake and the API all use it.
 */
const NONE = -1;

export class BoundedMap<K, V> {
  /** key -> its slot in `keyAt`, `valueAt` and the links */
  readonly #slots = new Map<K, number>();
  readonly #keyAt: (K | undefined)[] = [];
  readonly #valueAt: (V | undefined)[] = [];
  /** the slot inserted right after / right before each slot, NONE at the ends */
  #newer = new Int32Array(0);
  #older = new Int32Array(0);
  #oldest = NONE;
  #newest = NONE;
  /** slots emptied by `delete`, reused before a new one is taken */
  readonly #free: number[] = [];
  /** entries forgotten because the map was full */
  evictions = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.#slots.size;
  }

  has(key: K): boolean {
    return this.#slots.has(key);
  }

  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#valueAt[slot];
  }

  /** writes the value; a key it holds keeps its place, a new one is the newest */
  set(key: K, value: V): this {
    const slot = this.#slots.get(key);
    if (slot === undefined) this.#insert(key, value);
    else this.#valueAt[slot] = value;
    return this;
  }

  /** writes the value and makes the key the newest, whether it held it or not */
  setNewest(key: K, value: V): this {
    const slot = this.#slots.get(key);
    if (slot === undefined) {
      this.#insert(key, value);
      return this;
    }
    this.#valueAt[slot] = value;
    this.#renew(slot);
    return this;
  }

  /** the key's value, the key made the newest (a use that renews its age); undefined if absent */
  touch(key: K): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.#renew(slot);
    return this.#valueAt[slot];
  }

  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#unlink(slot);
    this.#slots.delete(key);
    this.#keyAt[slot] = undefined;
    this.#valueAt[slot] = undefined;
    this.#free.push(slot);
    return true;
  }

  clear(): void {
    this.#slots.clear();
    this.#keyAt.length = 0;
    this.#valueAt.length = 0;
    this.#free.length = 0;
    this.#oldest = NONE;
    this.#newest = NONE;
  }

  /** the oldest key, the next to be forgotten */
  oldestKey(): K | undefined {
    return this.#oldest === NONE ? undefined : this.#keyAt[this.#oldest];
  }

  /** oldest first; the map must not change while it is walked */
  *entries(): IterableIterator<[K, V]> {
    for (let slot = this.#oldest; slot !== NONE; slot = this.#newer[slot]!)
      yield [this.#keyAt[slot] as K, this.#valueAt[slot] as V];
  }

  *keys(): IterableIterator<K> {
    for (let slot = this.#oldest; slot !== NONE; slot = this.#newer[slot]!) yield this.#keyAt[slot] as K;
  }

  *values(): IterableIterator<V> {
    for (let slot = this.#oldest; slot !== NONE; slot = this.#newer[slot]!) yield this.#valueAt[slot] as V;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  #insert(key: K, value: V): void {
    let slot: number;
    if (this.#slots.size >= this.capacity) slot = this.#evictOldest();
    else if (this.#free.length > 0) slot = this.#free.pop() as number;
    else slot = this.#takeSlot();
    this.#keyAt[slot] = key;
    this.#valueAt[slot] = value;
    this.#slots.set(key, slot);
    this.#linkNewest(slot);
  }

  /** forgets the oldest entry and answers its slot, for the new key */
  #evictOldest(): number {
    const slot = this.#oldest;
    const key = this.#keyAt[slot] as K;
    const value = this.#valueAt[slot] as V;
    this.#unlink(slot);
    this.#slots.delete(key);
    this.evictions++;
    this.onEvict?.(key, value);
    return slot;
  }

  /** a slot never used yet; the links grow by doubling so a large bound costs nothing until reached */
  #takeSlot(): number {
    const slot = this.#keyAt.length;
    this.#keyAt.push(undefined);
    this.#valueAt.push(undefined);
    if (slot >= this.#newer.length) {
      const length = Math.min(this.capacity, Math.max(16, this.#newer.length * 2));
      const newer = new Int32Array(length);
      const older = new Int32Array(length);
      newer.set(this.#newer);
      older.set(this.#older);
      this.#newer = newer;
      this.#older = older;
    }
    return slot;
  }

  #renew(slot: number): void {
    if (slot === this.#newest) return;
    this.#unlink(slot);
    this.#linkNewest(slot);
  }

  #linkNewest(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = NONE;
    if (this.#newest === NONE) this.#oldest = slot;
    else this.#newer[this.#newest] = slot;
    this.#newest = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot]!;
    const newer = this.#newer[slot]!;
    if (older === NONE) this.#oldest = newer;
    else this.#newer[older] = newer;
    if (newer === NONE) this.#newest = older;
    else this.#older[newer] = older;
  }
}

/** A Set of at most `capacity` keys, oldest forgotten first; `add` of a key it holds keeps its place. */
export class BoundedSet<K> {
  readonly #map: BoundedMap<K, true>;

  constructor(capacity: number) {
    this.#map = new BoundedMap<K, true>(capacity);
  }

  get capacity(): number {
    return this.#map.capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  get evictions(): number {
    return this.#map.evictions;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  add(key: K): this {
    this.#map.set(key, true);
    return this;
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** oldest first */
  keys(): IterableIterator<K> {
    return this.#map.keys();
  }
}
