import type { LogRecord } from "../log/log.ts";

/**
 * Records of partitions whose state is still being restored, held in arrival order until the
 * dispatch loop releases them.
 *
 * A finished restore only marks its partition; the loop releases the held records itself,
 * between dispatches. A restore that finished while a dispatch awaited ring space must not let
 * that batch's newer records of the partition overtake the older held ones (the actors would
 * then skip the older ones as replays: regression test in test/node/scale-out/kill-node).
 */
export class HeldRecords {
  private readonly holding = new Map<number, LogRecord[]>();
  private readonly finished = new Set<number>();
  private count = 0;

  /** records held in total: the loop stops polling past a bound */
  get size(): number {
    return this.count;
  }

  /** records of the partition held now (polled from the log, not dispatched yet) */
  heldOf(partition: number): number {
    return this.holding.get(partition)?.length ?? 0;
  }

  start(partition: number): void {
    this.holding.set(partition, []);
  }

  /** true when the record was held (its partition is restoring) */
  hold(record: LogRecord): boolean {
    const held = this.holding.get(record.partition);
    if (!held) return false;
    held.push(record);
    this.count++;
    return true;
  }

  /** the partition's restore finished; its records go at the loop's next `release` */
  finish(partition: number): void {
    this.finished.add(partition);
  }

  /** the held records of every finished partition still owned, oldest first per partition */
  release(owned: (partition: number) => boolean): LogRecord[] {
    const released: LogRecord[] = [];
    for (const partition of this.finished) {
      const held = this.holding.get(partition) ?? [];
      this.holding.delete(partition);
      this.finished.delete(partition);
      this.count -= held.length;
      if (owned(partition)) released.push(...held);
    }
    return released;
  }

  /** the partition moved to another member: its held records are read again by the new owner */
  drop(partition: number): void {
    this.count -= this.holding.get(partition)?.length ?? 0;
    this.holding.get(partition)?.splice(0);
  }
}
