/**
 * Event-time timers by key: "wake key K when the watermark reaches T", one timer per key (a new
 * time replaces the old one). Flink's `TimerService.registerEventTimeTimer`, reduced to what a
 * host of many window actors needs: it keeps one entry per key with an open window, and hands
 * back, in time order, the keys whose time the watermark has reached.
 *
 * Built for the fact that window actors ask for few distinct times: every tumbling or hopping
 * window closes on the same grid (end + grace), so at 100k sensors 100k keys share a handful of
 * times. Keys wait in one bucket per time, appended in schedule order, and only the distinct
 * times sit in a small min-heap: a schedule is an append instead of a sift through a heap of
 * every key (that sift, with a string per entry, was ~3 % of the 100k-sensor peer run).
 *
 * Replacing or cancelling a key's timer leaves its old bucket entry behind, recognised as stale
 * when its time comes (the key's current time no longer matches). The buckets are rebuilt when
 * stale entries outnumber live ones, so memory stays proportional to the keys with a timer.
 */
export class EventTimeTimers {
  private readonly timeOf = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();
  /** distinct times with a bucket, as a binary min-heap */
  private times: number[] = [];
  /** bucket entries, live and stale */
  private entries = 0;

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
    this.append(at, key);
    if (this.entries > 64 && this.entries > 2 * this.timeOf.size) this.rebuild();
  }

  cancel(key: string): void {
    this.timeOf.delete(key);
  }

  /** removes and returns the keys whose timer is at or before `watermark`, earliest first */
  due(watermark: number): string[] {
    const due: string[] = [];
    while (this.times.length > 0 && this.times[0]! <= watermark) {
      const at = this.times[0]!;
      const keys = this.buckets.get(at)!;
      this.buckets.delete(at);
      this.popTime();
      this.entries -= keys.length;
      for (const key of keys) {
        if (this.timeOf.get(key) !== at) continue; // replaced or cancelled
        this.timeOf.delete(key);
        due.push(key);
      }
    }
    return due;
  }

  private append(at: number, key: string): void {
    const keys = this.buckets.get(at);
    if (keys === undefined) {
      this.buckets.set(at, [key]);
      this.pushTime(at);
    } else {
      keys.push(key);
    }
    this.entries++;
  }

  private pushTime(at: number): void {
    const times = this.times;
    let i = times.length;
    times.push(at);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= at) break;
      times[i] = times[parent]!;
      i = parent;
    }
    times[i] = at;
  }

  private popTime(): void {
    const times = this.times;
    const last = times.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && times[right]! < times[left]! ? right : left;
      if (times[child]! >= last) break;
      times[i] = times[child]!;
      i = child;
    }
    times[i] = last;
  }

  private rebuild(): void {
    this.buckets.clear();
    this.times = [];
    this.entries = 0;
    for (const [key, at] of this.timeOf) this.append(at, key);
  }
}
