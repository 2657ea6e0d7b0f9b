import type { PlacementContext, RecordPlacement } from "./window-placement.ts";

/**
 * Session windows with merging, after Flink's MergingWindowAssigner: a record at t is the
 * proto-session [t, t + gap); every open session of the key that intersects it (ends touching
 * count, so records exactly `gap` apart share a session) merges into one, with accumulators
 * combined by `merge` (Welford moments pairwise, t-digests by their merge pass). The merged
 * window keeps the identity (start order, close sequence) of the newest session it absorbed
 * first; absorbed sessions are released, and their close-queue entries go stale.
 */
export class SessionPlacement implements RecordPlacement {
  readonly lateReason = "before watermark" as const;
  private readonly context: PlacementContext;
  private readonly gapMs: number;

  constructor(context: PlacementContext, gapMs: number) {
    this.context = context;
    this.gapMs = gapMs;
  }

  place(keyId: number, timestamp: number, values: Float64Array): boolean {
    const context = this.context;
    const table = context.table;
    const protoEnd = timestamp + this.gapMs;
    let target = -1;
    let slot = table.keyHead[keyId]!;
    while (slot >= 0) {
      const next = table.nextOf(slot);
      if (timestamp <= table.endOf(slot) && protoEnd >= table.startOf(slot)) {
        if (target < 0) {
          target = slot;
        } else {
          table.merge(target, slot);
          if (table.startOf(slot) < table.startOf(target)) table.setStart(target, table.startOf(slot));
          if (table.endOf(slot) > table.endOf(target)) table.setEnd(target, table.endOf(slot));
          table.release(slot);
        }
      }
      slot = next;
    }
    if (target < 0) {
      if (protoEnd + context.graceMs <= context.watermark()) return false;
      target = context.open(keyId, timestamp, protoEnd);
    } else {
      if (timestamp < table.startOf(target)) table.setStart(target, timestamp);
      if (protoEnd > table.endOf(target)) table.setEnd(target, protoEnd);
    }
    table.add(target, values, 0);
    context.touch(target);
    return true;
  }
}
