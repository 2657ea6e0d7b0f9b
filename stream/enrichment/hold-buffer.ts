/**
 * Records waiting for their reference row (the "late reference" case of a stream-table join):
 * held per key in arrival order, released all at once when the key's row arrives, or one by
 * one when they have waited their time. Bounded twice: per key and in total. On overflow the
 * oldest held record (of that key, or of all keys) is evicted through the callback, so nothing
 * vanishes and per-key order is kept.
 *
 * One FIFO of all entries in arrival order gives expiry in O(expired): with one hold time for
 * all records, deadlines grow with arrival order. Entries taken out by key are marked and
 * skipped by the FIFO later.
 */
export interface HeldRecord<R> {
  readonly key: string;
  readonly record: R;
  readonly deadline: number;
  gone: boolean;
}

export class HoldBuffer<R> {
  private readonly byKey = new Map<string, HeldRecord<R>[]>();
  private fifo: HeldRecord<R>[] = [];
  private head = 0;
  private count = 0;

  constructor(
    private readonly maxPerKey: number,
    private readonly maxRecords: number,
  ) {}

  get size(): number {
    return this.count;
  }

  holds(key: string): boolean {
    return this.byKey.has(key);
  }

  /** hold a record; returns how many older records were evicted to make room */
  hold(key: string, record: R, deadline: number, evict: (entry: HeldRecord<R>) => void): number {
    let evicted = 0;
    let queue = this.byKey.get(key);
    if (queue === undefined) {
      queue = [];
      this.byKey.set(key, queue);
    }
    while (queue.length >= this.maxPerKey) {
      const oldest = queue.shift()!;
      this.forget(oldest);
      evict(oldest);
      evicted++;
    }
    while (this.count >= this.maxRecords) {
      const oldest = this.shiftFifo();
      if (oldest === undefined) break;
      this.removeFromKey(oldest);
      evict(oldest);
      evicted++;
    }
    const entry: HeldRecord<R> = { key, record, deadline, gone: false };
    // the per-key queue may have been emptied and deleted by a global eviction above
    let live = this.byKey.get(key);
    if (live === undefined) {
      live = [];
      this.byKey.set(key, live);
    }
    live.push(entry);
    this.fifo.push(entry);
    this.count++;
    return evicted;
  }

  /** take every record held for a key, oldest first */
  take(key: string): HeldRecord<R>[] {
    const queue = this.byKey.get(key);
    if (queue === undefined) return [];
    this.byKey.delete(key);
    for (const entry of queue) {
      entry.gone = true;
      this.count--;
    }
    this.compactFifo();
    return queue;
  }

  /** take the records whose deadline is at or before `now`, oldest first */
  expire(now: number, onExpired: (entry: HeldRecord<R>) => void): number {
    let expired = 0;
    for (;;) {
      this.skipGone();
      const oldest = this.fifo[this.head];
      if (oldest === undefined || oldest.deadline > now) break;
      this.shiftFifo();
      this.removeFromKey(oldest);
      onExpired(oldest);
      expired++;
    }
    return expired;
  }

  /** take every held record, oldest first */
  drain(onEach: (entry: HeldRecord<R>) => void): number {
    return this.expire(Number.POSITIVE_INFINITY, onEach);
  }

  private shiftFifo(): HeldRecord<R> | undefined {
    this.skipGone();
    const entry = this.fifo[this.head];
    if (entry === undefined) return undefined;
    this.head++;
    entry.gone = true;
    this.count--;
    this.compactFifo();
    return entry;
  }

  private forget(entry: HeldRecord<R>): void {
    entry.gone = true;
    this.count--;
    if (this.byKey.get(entry.key)?.length === 0) this.byKey.delete(entry.key);
  }

  private removeFromKey(entry: HeldRecord<R>): void {
    const queue = this.byKey.get(entry.key);
    if (queue === undefined) return;
    const i = queue.indexOf(entry);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) this.byKey.delete(entry.key);
  }

  private skipGone(): void {
    while (this.head < this.fifo.length && this.fifo[this.head]!.gone) this.head++;
  }

  private compactFifo(): void {
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
    if (this.count === 0) {
      this.fifo = [];
      this.head = 0;
    }
  }
}
