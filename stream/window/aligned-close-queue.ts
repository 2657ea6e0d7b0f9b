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
  /** one emptied bucket kept for the next close time (a per-sensor queue needs no more) */
  private spare: Bucket | undefined;
  private top: Bucket | undefined;
  size = 0;

  push(closeAt: number, seq: number, slot: number, generation: number): void {
    let bucket = this.buckets.get(closeAt);
    if (bucket === undefined) {
      bucket = this.spare ?? new Bucket();
      this.spare = undefined;
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
    return bucket.slotAt(bucket.head);
  }

  peekGeneration(): number {
    const bucket = this.first();
    return bucket.generationAt(bucket.head);
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
    this.spare = bucket;
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

/**
 * One close time's entries in seq order; `head` is the next to leave. An entry is three doubles
 * (seq, slot, generation; the two int32s are exact as doubles) in one array: a per-sensor
 * operator keeps a bucket or two with an entry each, and three typed arrays per bucket were
 * ~400k objects for the garbage collector at 100k sensors.
 */
class Bucket {
  private entries = new Float64Array(4 * ENTRY);
  head = 0;
  count = 0;

  slotAt(i: number): number {
    return this.entries[i * ENTRY + 1]!;
  }

  generationAt(i: number): number {
    return this.entries[i * ENTRY + 2]!;
  }

  append(seq: number, slot: number, generation: number): void {
    if (this.count * ENTRY === this.entries.length) this.grow();
    const entries = this.entries;
    let i = this.count++;
    // seq order inside the bucket; the operator always appends at the end
    while (i > this.head && entries[(i - 1) * ENTRY]! > seq) {
      entries.copyWithin(i * ENTRY, (i - 1) * ENTRY, i * ENTRY);
      i--;
    }
    entries[i * ENTRY] = seq;
    entries[i * ENTRY + 1] = slot;
    entries[i * ENTRY + 2] = generation;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const entries = new Float64Array(this.entries.length * 2);
    entries.set(this.entries);
    this.entries = entries;
  }
}

/** doubles per bucket entry: seq, slot, generation */
const ENTRY = 3;
