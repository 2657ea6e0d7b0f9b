/**
 * The close queue of tumbling and hopping windows: the same contract as `CloseQueue` (entries
 * leave in (closeAt, seq) order), built for the fact that such windows close at few distinct
 * times. Every window of every key ends on the same grid (start aligned to the advance), so all
 * windows opened for one period share one close time. Entries are kept in one bucket per close
 * time, appended in push order (which is seq order: the operator numbers windows as it opens
 * them, and a restore pushes them in seq order), and only the distinct close times sit in a small
 * min-heap. A push is an append instead of a sift through a heap of every open window (at 100k
 * keys that sift was a quarter of the operator's time). A push that would break the bucket's seq
 * order (not made by the operator, kept for the contract) is inserted in place.
 */
export class AlignedCloseQueue {
  private readonly buckets = new Map<number, Bucket>();
  /** distinct close times with a non-empty bucket, as a binary min-heap */
  private times: number[] = [];
  private spare: Bucket[] = [];
  private top: Bucket | undefined;
  size = 0;

  push(closeAt: number, seq: number, slot: number, generation: number): void {
    let bucket = this.buckets.get(closeAt);
    if (bucket === undefined) {
      bucket = this.spare.pop() ?? new Bucket();
      this.buckets.set(closeAt, bucket);
      this.pushTime(closeAt);
      // the first bucket changes only when the new time is the earliest (a later window's
      // bucket left it valid, and it was looked up again by time)
      if (this.times[0] === closeAt) this.top = bucket;
    }
    bucket.append(seq, slot, generation);
    this.size++;
  }

  /** Close time of the first entry; +Infinity when empty. */
  peekCloseAt(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  peekSlot(): number {
    const bucket = this.first();
    return bucket.slot[bucket.head]!;
  }

  peekGeneration(): number {
    const bucket = this.first();
    return bucket.generation[bucket.head]!;
  }

  pop(): void {
    const bucket = this.first();
    bucket.head++;
    this.size--;
    if (bucket.head < bucket.count) return;
    const closeAt = this.times[0]!;
    this.buckets.delete(closeAt);
    this.popTime();
    bucket.clear();
    this.spare.push(bucket);
    this.top = undefined;
  }

  clear(): void {
    for (const bucket of this.buckets.values()) bucket.clear();
    this.buckets.clear();
    this.times = [];
    this.top = undefined;
    this.size = 0;
  }

  private first(): Bucket {
    if (this.top === undefined) this.top = this.buckets.get(this.times[0]!)!;
    return this.top;
  }

  private pushTime(closeAt: number): void {
    const times = this.times;
    let i = times.length;
    times.push(closeAt);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= closeAt) break;
      times[i] = times[parent]!;
      i = parent;
    }
    times[i] = closeAt;
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
}

/** One close time's entries in seq order; `head` is the next to leave. */
class Bucket {
  seq = new Float64Array(4);
  slot = new Int32Array(4);
  generation = new Int32Array(4);
  head = 0;
  count = 0;

  append(seq: number, slot: number, generation: number): void {
    if (this.count === this.slot.length) this.grow();
    let i = this.count++;
    // seq order inside the bucket; the operator always appends at the end
    while (i > this.head && this.seq[i - 1]! > seq) {
      this.seq[i] = this.seq[i - 1]!;
      this.slot[i] = this.slot[i - 1]!;
      this.generation[i] = this.generation[i - 1]!;
      i--;
    }
    this.seq[i] = seq;
    this.slot[i] = slot;
    this.generation[i] = generation;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const length = this.slot.length * 2;
    const seq = new Float64Array(length);
    seq.set(this.seq);
    const slot = new Int32Array(length);
    slot.set(this.slot);
    const generation = new Int32Array(length);
    generation.set(this.generation);
    this.seq = seq;
    this.slot = slot;
    this.generation = generation;
  }
}
