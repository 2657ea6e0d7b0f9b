/**
 * A bounded memory of recently seen event times for one sensor: a ring of the last `capacity`
 * times plus a set for O(1) lookup. An event time older than everything remembered may be a
 * duplicate that can no longer be proven; the memory is sized so that such replays are rare.
 */
export class RecentEventTimes {
  private readonly ring: number[];
  private readonly seen = new Set<number>();
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<number>(capacity);
  }

  /** true if `time` was already remembered; otherwise remembers it and returns false */
  seenBefore(time: number): boolean {
    if (this.seen.has(time)) return true;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.ring[this.next] = time;
    this.seen.add(time);
    this.next = (this.next + 1) % this.capacity;
    return false;
  }

  /** oldest first, for snapshots */
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const t = this.ring[(this.next + i) % this.capacity];
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  static from(times: readonly number[], capacity: number): RecentEventTimes {
    const memory = new RecentEventTimes(capacity);
    for (const t of times.slice(-capacity)) memory.seenBefore(t);
    return memory;
  }
}
