/**
 * The record cache of on-update emission (Kafka Streams' KIP-63): a window's update is not
 * emitted when a record changes the window but held until the caller flushes (at the end of
 * its input batch, and always before a checkpoint), and then only the latest state of each
 * changed window goes out, once. A window that closes before the flush emits only its final
 * result: the update it held is superseded. Final results are the same with or without the
 * cache; only the intermediate updates are fewer.
 *
 * It holds slots, not results: the result is built from the window table at the flush, so a
 * window changed by six records of a batch costs one result object instead of six. A slot is
 * held together with the table generation it had; a slot released since (closed, merged away,
 * or reused for another window) no longer has that generation and is skipped, so the close and
 * merge paths need not tell the cache anything.
 */
export class UpdateCache {
  /** per slot: the generation it was held at, plus one; 0 when not held */
  private heldAt = new Int32Array(0);
  private slots = new Int32Array(4);
  private count = 0;

  /** Holds `slot` (at table generation `generation`) until the next `drain`. */
  hold(slot: number, generation: number): void {
    if (slot >= this.heldAt.length) {
      const grown = new Int32Array(Math.max(slot + 1, this.heldAt.length * 2, 8));
      grown.set(this.heldAt);
      this.heldAt = grown;
    }
    const tag = (generation + 1) | 0;
    if (this.heldAt[slot] === tag) return;
    this.heldAt[slot] = tag;
    if (this.count === this.slots.length) {
      const grown = new Int32Array(this.count * 2);
      grown.set(this.slots);
      this.slots = grown;
    }
    this.slots[this.count++] = slot;
  }

  /**
   * Calls `emit` once for every held slot whose generation is still `generationOf(slot)`, in the
   * order the slots were first held, and empties the cache.
   */
  drain(generationOf: (slot: number) => number, emit: (slot: number) => void): void {
    const heldAt = this.heldAt;
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[i]!;
      const tag = heldAt[slot]!;
      if (tag === 0) continue; // held twice (released and reused in between): emitted already
      heldAt[slot] = 0;
      if (tag === ((generationOf(slot) + 1) | 0)) emit(slot);
    }
    this.count = 0;
  }

  /** held slots, stale ones included (a bound for the caller's flush cadence) */
  get size(): number {
    return this.count;
  }

  /** forgets every held slot (the state they refer to was replaced) */
  clear(): void {
    this.heldAt.fill(0);
    this.count = 0;
  }
}
