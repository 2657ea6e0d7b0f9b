/**
 * Event-time timers by key: "wake key K when the watermark reaches T", one timer per key (a new
 * time replaces the old one). Flink's `TimerService.registerEventTimeTimer`, reduced to what a
 * host of many window actors needs: it keeps one entry per key with an open window, and hands
 * back, in time order, the keys whose time the watermark has reached.
 *
 * A min-heap on time with lazy deletion: replacing or cancelling a key's timer leaves its old
 * heap entry behind, recognised as stale when it reaches the top (its time no longer matches
 * the key's current one). The heap is rebuilt when stale entries outnumber live ones, so memory
 * stays proportional to the keys with a timer.
 */
export class EventTimeTimers {
  private readonly timeOf = new Map<string, number>();
  private times: number[] = [];
  private keys: string[] = [];

  /** keys with a live timer */
  get size(): number {
    return this.timeOf.size;
  }

  /** wake `key` at event time `at`; +Infinity or NaN cancels its timer */
  schedule(key: string, at: number): void {
    if (!Number.isFinite(at) && at !== Number.NEGATIVE_INFINITY) {
      this.timeOf.delete(key);
      return;
    }
    if (this.timeOf.get(key) === at) return;
    this.timeOf.set(key, at);
    this.push(at, key);
    if (this.times.length > 64 && this.times.length > 2 * this.timeOf.size) this.rebuild();
  }

  cancel(key: string): void {
    this.timeOf.delete(key);
  }

  /** removes and returns the keys whose timer is at or before `watermark`, earliest first */
  due(watermark: number): string[] {
    const due: string[] = [];
    while (this.times.length > 0 && this.times[0]! <= watermark) {
      const at = this.times[0]!;
      const key = this.keys[0]!;
      this.pop();
      if (this.timeOf.get(key) !== at) continue; // replaced or cancelled
      this.timeOf.delete(key);
      due.push(key);
    }
    return due;
  }

  private push(at: number, key: string): void {
    let i = this.times.length;
    this.times.push(at);
    this.keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= at) break;
      this.times[i] = this.times[parent]!;
      this.keys[i] = this.keys[parent]!;
      i = parent;
    }
    this.times[i] = at;
    this.keys[i] = key;
  }

  private pop(): void {
    const lastTime = this.times.pop()!;
    const lastKey = this.keys.pop()!;
    const n = this.times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.times[right]! < this.times[left]! ? right : left;
      if (this.times[child]! >= lastTime) break;
      this.times[i] = this.times[child]!;
      this.keys[i] = this.keys[child]!;
      i = child;
    }
    this.times[i] = lastTime;
    this.keys[i] = lastKey;
  }

  private rebuild(): void {
    const live = [...this.timeOf.entries()];
    this.times = [];
    this.keys = [];
    for (const [key, at] of live) this.push(at, key);
  }
}
