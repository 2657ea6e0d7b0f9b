/**
 * The ids of the rows a table received most recently, at most `capacity` of them, oldest
 * forgotten first. Upstream repeats (outputs a crashed node emits again) arrive shortly after
 * their originals, within one replay of its input, so a bounded window of recent ids catches
 * them, as Flink's deduplication with a state TTL does; memory stays bounded at the price of
 * letting through a repeat older than the window.
 */
export class RecentRowIds {
  private readonly ids = new Set<string>();

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
    if (this.ids.size > this.capacity) {
      // a Set iterates in insertion order: the first one is the oldest
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }
}
