import { floorMod } from "./window-assigner.ts";
import type { PlacementContext, RecordPlacement } from "./window-placement.ts";

/**
 * Tumbling and hopping windows (tumbling is hopping with advance = size). A record goes into
 * every window [start, start + size) that contains it and is still open; the key's newest
 * window is probed first, so in-order data finds its window without a scan.
 */
export class TimeWindowPlacement implements RecordPlacement {
  readonly lateReason = "window closed" as const;
  private readonly context: PlacementContext;
  private readonly sizeMs: number;
  private readonly advanceMs: number;
  private readonly offsetMs: number;

  constructor(context: PlacementContext, sizeMs: number, advanceMs: number, offsetMs: number) {
    this.context = context;
    this.sizeMs = sizeMs;
    this.advanceMs = advanceMs;
    this.offsetMs = offsetMs;
  }

  place(keyId: number, timestamp: number, values: Float64Array): boolean {
    const context = this.context;
    const table = context.table;
    const closedUpTo = context.watermark() - context.graceMs;
    let placed = false;
    let start = timestamp - floorMod(timestamp - this.offsetMs, this.advanceMs);
    // The key's windows are listed newest first, and the starts are visited newest first, so
    // for in-order data each window is found right after the previous one: the search resumes
    // there (a hopping record's 6 windows cost 6 probes, not 21) and falls back to the whole
    // list only when that misses.
    let from = table.keyHead[keyId]!;
    for (; start > timestamp - this.sizeMs; start -= this.advanceMs) {
      const end = start + this.sizeMs;
      if (end <= closedUpTo) break; // older windows end even earlier
      let slot = from;
      while (slot >= 0 && table.startOf(slot) !== start) slot = table.nextOf(slot);
      if (slot < 0) {
        for (slot = table.keyHead[keyId]!; slot >= 0 && slot !== from; slot = table.nextOf(slot))
          if (table.startOf(slot) === start) break;
        if (slot === from) slot = -1;
      }
      if (slot < 0) slot = context.open(keyId, start, end);
      from = table.nextOf(slot);
      table.add(slot, values, 0);
      context.touch(slot);
      placed = true;
    }
    return placed;
  }
}
