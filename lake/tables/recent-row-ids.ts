/**
 * The ids of the rows a table received most recently, at most `capacity` of them, oldest
 * forgotten first. Upstream repeats (outputs a crashed node emits again) arrive shortly after
 * their originals, within one replay of its input, so a bounded window of recent ids catches
 * them, as Flink's deduplication with a state TTL does; memory stays bounded at the price of
 * letting through a repeat older than the window.
 *
 * The order of arrival is a ring of its own: the oldest was the Set's first entry, but a Set
 * that forgets its first entry on every add keeps the forgotten ones as holes its iterator walks
 * past, so each eviction cost more than the last (Bun/JSC: 2 -> 14 ms per 1,000 adds within
 * 50,000 adds past a capacity of 200,000; the lake's silver sink reaches that after ~20 s at
 * 10k readings/s).
 */
export class RecentRowIds {
  private readonly ids = new Set<string>();
  /** the ids in order of arrival; once full, `oldest` is where the next one goes */
  private readonly order: string[] = [];
  private oldest = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError("capacity must be positive");
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.order.length < this.capacity) {
      this.order.push(id);
      return;
    }
    this.ids.delete(this.order[this.oldest] as string);
    this.order[this.oldest] = id;
    this.oldest = (this.oldest + 1) % this.capacity;
  }
}
