/**
 * The record cache of on-update emission (Kafka Streams' KIP-63): a window's update is not
 * emitted when a record changes the window but held until the caller flushes (at the end of
 * its input batch, or at the checkpoint, and always before one), and then only the latest state
 * of each changed window goes out, once. A window that closes before the flush emits only its
 * final result: the update it held is superseded. Final results are the same with or without
 * the cache; only the intermediate updates are fewer.
 *
 * It holds slots, not results: the result is built from the window table at the flush, so a
 * window changed by six records of a batch costs one result object instead of six. A slot is
 * held together with the table generation it had; a slot released since (closed, merged away,
 * or reused for another window) no longer has that generation and is skipped. The operator
 * tells the cache of the windows it closes (`release`), so `held` counts the windows whose
 * update still waits; a session merged away is not told and counts until it is skipped.
 *
 * A bound (`evictOldest`): a caller that holds updates until its checkpoint emits the oldest
 * held windows early once more than its bound wait, as Kafka Streams' cache evicts (and
 * forwards) its oldest dirty entries when it is full. "Oldest" is the order a window was first
 * held since the last flush (Kafka Streams moves an entry to the young end on every write; here
 * a window written again keeps its place, which evicts a busy window sooner, never loses one).
 */
export class UpdateCache {
  /** per slot: the generation it was held at, plus one; 0 when not held */
  private heldAt = new Int32Array(0);
  /** the held slots in the order first held; [head, count) still to visit */
  private slots = new Int32Array(4);
  private head = 0;
  private count = 0;
  private live = 0;

  /** Holds `slot` (at table generation `generation`) until the next `drain`. */
  hold(slot: number, generation: number): void {
    if (slot >= this.heldAt.length) {
      const grown = new Int32Array(Math.max(slot + 1, this.heldAt.length * 2, 8));
      grown.set(this.heldAt);
      this.heldAt = grown;
    }
    const tag = (generation + 1) | 0;
    const was = this.heldAt[slot]!;
    if (was === tag) return;
    // a slot still tagged with an older generation (reused without a release) is one window
    // waiting, not two: its older entry in the list finds the new tag and emits it
    if (was === 0) this.live++;
    this.heldAt[slot] = tag;
    if (this.count === this.slots.length) this.makeRoom();
    this.slots[this.count++] = slot;
  }

  /**
   * The list is full. Held to a checkpoint, it would keep an entry for every window held since
   * (most of them closed and released long ago) and grow with the input between two checkpoints;
   * when at most half of its entries are still held, the released ones are dropped instead (the
   * drain skips them anyway), so it stays within a few times the windows held. Entries before
   * `head` (visited by evictions) go in the same pass.
   */
  private makeRoom(): void {
    const heldAt = this.heldAt;
    const slots = this.slots;
    if (this.live * 2 <= this.count - this.head) {
      let kept = 0;
      for (let i = this.head; i < this.count; i++) {
        const slot = slots[i]!;
        if (heldAt[slot] !== 0) slots[kept++] = slot;
      }
      this.head = 0;
      this.count = kept;
    } else if (this.head > 0) {
      slots.copyWithin(0, this.head, this.count);
      this.count -= this.head;
      this.head = 0;
    }
    if (this.count * 4 > slots.length * 3) {
      const grown = new Int32Array(slots.length * 2);
      grown.set(slots.subarray(0, this.count));
      this.slots = grown;
    }
  }

  /** the window in `slot` closed (its final result went out): its held update is superseded */
  release(slot: number): void {
    if (slot >= this.heldAt.length || this.heldAt[slot] === 0) return;
    this.heldAt[slot] = 0;
    this.live--;
  }

  /**
   * Calls `emit` once for every held slot whose generation is still `generationOf(slot)`, in the
   * order the slots were first held, and empties the cache.
   */
  drain(generationOf: (slot: number) => number, emit: (slot: number) => void): void {
    const heldAt = this.heldAt;
    for (let i = this.head; i < this.count; i++) {
      const slot = this.slots[i]!;
      const tag = heldAt[slot]!;
      if (tag === 0) continue; // released, or held twice and emitted already
      heldAt[slot] = 0;
      if (tag === ((generationOf(slot) + 1) | 0)) emit(slot);
    }
    this.head = 0;
    this.count = 0;
    this.live = 0;
  }

  /**
   * While more than `max` windows are held, emits the oldest held one (as `drain` does, skipping
   * released and superseded slots) and forgets it: the cache's bound.
   */
  evictOldest(max: number, generationOf: (slot: number) => number, emit: (slot: number) => void): void {
    const heldAt = this.heldAt;
    while (this.live > max && this.head < this.count) {
      const slot = this.slots[this.head++]!;
      const tag = heldAt[slot]!;
      if (tag === 0) continue;
      heldAt[slot] = 0;
      this.live--;
      if (tag === ((generationOf(slot) + 1) | 0)) emit(slot);
    }
    if (this.head === this.count) {
      this.head = 0;
      this.count = 0;
    }
  }

  /** entries still to visit, released ones included (0: nothing to flush) */
  get size(): number {
    return this.count - this.head;
  }

  /** windows whose update is held (a merged-away session counts until it is skipped) */
  get held(): number {
    return this.live;
  }

  /** forgets every held slot (the state they refer to was replaced) */
  clear(): void {
    this.heldAt.fill(0);
    this.head = 0;
    this.count = 0;
    this.live = 0;
  }
}
