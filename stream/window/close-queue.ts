/**
 * Windows waiting to close, as a binary min-heap on (closeAt, seq) in typed arrays: the window
 * that closes first is on top, and windows closing at the same time leave in creation order,
 * so output order is deterministic and survives a snapshot / restore (seq is part of the state).
 *
 * Entries are never removed from the middle. A window that merged away or moved its end (a
 * session that grew) leaves a stale entry; the operator recognises it by the slot's generation
 * or its current close time when the entry reaches the top, and drops or re-queues it.
 */
export class CloseQueue {
  private closeAt: Float64Array;
  private seq: Float64Array;
  // all four arrays the same length: `grow` copies each into one twice as long as `closeAt`
  private slot: Int32Array;
  private generation: Int32Array;
  size = 0;

  constructor(initialCapacity = 1024) {
    const capacity = Math.max(1, initialCapacity);
    this.closeAt = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.slot = new Int32Array(capacity);
    this.generation = new Int32Array(capacity);
  }

  push(closeAt: number, seq: number, slot: number, generation: number): void {
    if (this.size === this.closeAt.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(closeAt, seq, parent)) break;
      this.move(parent, i);
      i = parent;
    }
    this.closeAt[i] = closeAt;
    this.seq[i] = seq;
    this.slot[i] = slot;
    this.generation[i] = generation;
  }

  /** Close time of the top entry; +Infinity when empty. */
  peekCloseAt(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.closeAt[0]!;
  }

  peekSlot(): number {
    return this.slot[0]!;
  }

  peekGeneration(): number {
    return this.generation[0]!;
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    const closeAt = this.closeAt[last]!;
    const seq = this.seq[last]!;
    const slot = this.slot[last]!;
    const generation = this.generation[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.lessAt(right, left) ? right : left;
      if (!this.lessThan(child, closeAt, seq)) break;
      this.move(child, i);
      i = child;
    }
    this.closeAt[i] = closeAt;
    this.seq[i] = seq;
    this.slot[i] = slot;
    this.generation[i] = generation;
  }

  clear(): void {
    this.size = 0;
  }

  private before(closeAt: number, seq: number, at: number): boolean {
    const other = this.closeAt[at]!;
    return closeAt < other || (closeAt === other && seq < this.seq[at]!);
  }

  private lessThan(at: number, closeAt: number, seq: number): boolean {
    const mine = this.closeAt[at]!;
    return mine < closeAt || (mine === closeAt && this.seq[at]! < seq);
  }

  private lessAt(a: number, b: number): boolean {
    return this.lessThan(a, this.closeAt[b]!, this.seq[b]!);
  }

  private move(from: number, to: number): void {
    this.closeAt[to] = this.closeAt[from]!;
    this.seq[to] = this.seq[from]!;
    this.slot[to] = this.slot[from]!;
    this.generation[to] = this.generation[from]!;
  }

  private grow(): void {
    const length = this.closeAt.length * 2;
    const closeAt = new Float64Array(length);
    closeAt.set(this.closeAt);
    const seq = new Float64Array(length);
    seq.set(this.seq);
    const slot = new Int32Array(length);
    slot.set(this.slot);
    const generation = new Int32Array(length);
    generation.set(this.generation);
    this.closeAt = closeAt;
    this.seq = seq;
    this.slot = slot;
    this.generation = generation;
  }
}
