import type { KeyStateJson, PlacementContext, RecordPlacement } from "./window-placement.ts";

/**
 * Kafka Streams' record-driven sliding windows (KIP-450, `KStreamSlidingWindowAggregate`).
 * With time difference d, a Kafka window [s; s + d] (both ends inclusive) is [s, s + d + 1)
 * here. For a record at t:
 * 1. it joins every open window of its key that contains it;
 * 2. its LEFT window [t - d; t] is created if missing, from the buffered records it covers
 *    (a record earlier than d uses the window [0; d], as Kafka's `processEarly`);
 * 3. its RIGHT window [t + 1; t + d + 1] is created if missing and a buffered record falls in it;
 * 4. every earlier record p in [t - d, t) whose right window [p + 1; p + d + 1] is missing gets
 *    it now (it holds t).
 * So every distinct set of records within d of each other is one window, and no window is
 * empty — Kafka's documented example (d = 5 s; records at 8.0, 9.2, 12.4 s) gives its 5 windows.
 * Records are buffered per key for as long as an open or future window may contain them.
 */
export class SlidingPlacement implements RecordPlacement {
  readonly lateReason = "window closed" as const;
  private readonly context: PlacementContext;
  private readonly differenceMs: number;
  private readonly fieldCount: number;
  private readonly timestamps: (number[] | undefined)[] = [];
  private readonly values: (number[] | undefined)[] = [];

  constructor(context: PlacementContext, timeDifferenceMs: number, fieldCount: number) {
    this.context = context;
    this.differenceMs = timeDifferenceMs;
    this.fieldCount = fieldCount;
  }

  place(keyId: number, t: number, record: Float64Array): boolean {
    const { table } = this.context;
    const d = this.differenceMs;
    const closedUpTo = this.context.watermark() - this.context.graceMs;
    this.prune(keyId);
    const index = this.insert(keyId, t, record);
    const timestamps = this.timestamps[keyId]!;
    const leftStart = t < d ? 0 : t - d;
    let placed = false;
    let leftExists = false;
    let rightExists = false;
    for (let slot = table.keyHead[keyId]!; slot >= 0; slot = table.nextOf(slot)) {
      const start = table.startOf(slot);
      if (start === leftStart) leftExists = true;
      if (start === t + 1) rightExists = true;
      if (start <= t && t < table.endOf(slot)) {
        table.add(slot, record, 0);
        this.context.touch(slot);
        placed = true;
      }
    }
    if (!leftExists && leftStart + d + 1 > closedUpTo) {
      this.openFromBuffer(keyId, leftStart);
      placed = true;
    }
    if (!rightExists && t + d + 2 > closedUpTo && this.hasRecordIn(timestamps, t + 1, t + d + 1)) {
      this.openFromBuffer(keyId, t + 1);
    }
    for (let i = index - 1; i >= 0 && timestamps[i]! >= t - d; i--) {
      const p = timestamps[i]!;
      if (p === t || (i > 0 && timestamps[i - 1] === p)) continue; // same or duplicate timestamps
      if (p + d + 2 > closedUpTo && !this.hasWindow(keyId, p + 1)) {
        this.openFromBuffer(keyId, p + 1);
        placed = true;
      }
    }
    if (!placed) this.remove(keyId, index);
    return placed;
  }

  onClose(keyId: number): void {
    this.prune(keyId);
  }

  snapshotKeys(keyOf: (keyId: number) => string, onlyKeyId?: number): KeyStateJson[] {
    const out: KeyStateJson[] = [];
    const add = (timestamps: readonly number[] | undefined, keyId: number) => {
      if (timestamps === undefined || timestamps.length === 0) return;
      const values = this.values[keyId]!;
      const records: number[] = [];
      for (let i = 0; i < timestamps.length; i++) {
        records.push(timestamps[i]!);
        for (let f = 0; f < this.fieldCount; f++) records.push(values[i * this.fieldCount + f]!);
      }
      out.push({ key: keyOf(keyId), records });
    };
    // one key's state (a partition operator's per-key checkpoint) without a pass over every key
    if (onlyKeyId !== undefined) add(this.timestamps[onlyKeyId], onlyKeyId);
    else this.timestamps.forEach(add);
    return out;
  }

  restoreKey(keyId: number, state: KeyStateJson): void {
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < state.records.length; i += this.fieldCount + 1) {
      timestamps.push(state.records[i]!);
      for (let f = 1; f <= this.fieldCount; f++) values.push(state.records[i + f]!);
    }
    this.timestamps[keyId] = timestamps;
    this.values[keyId] = values;
  }

  private openFromBuffer(keyId: number, start: number): void {
    const { table } = this.context;
    const end = start + this.differenceMs + 1;
    const slot = this.context.open(keyId, start, end);
    const timestamps = this.timestamps[keyId]!;
    const values = this.values[keyId]!;
    for (let i = 0; i < timestamps.length; i++) {
      const p = timestamps[i]!;
      if (p >= end) break;
      if (p >= start) table.add(slot, values, i * this.fieldCount);
    }
    this.context.touch(slot);
  }

  private hasWindow(keyId: number, start: number): boolean {
    const { table } = this.context;
    for (let slot = table.keyHead[keyId]!; slot >= 0; slot = table.nextOf(slot)) {
      if (table.startOf(slot) === start) return true;
    }
    return false;
  }

  private hasRecordIn(timestamps: number[], from: number, to: number): boolean {
    for (let i = timestamps.length - 1; i >= 0; i--) {
      const p = timestamps[i]!;
      if (p < from) return false;
      if (p <= to) return true;
    }
    return false;
  }

  /** Inserts in timestamp order (after equal timestamps); returns the record's index. */
  private insert(keyId: number, t: number, record: Float64Array): number {
    let timestamps = this.timestamps[keyId];
    let values = this.values[keyId];
    if (timestamps === undefined || values === undefined) {
      timestamps = [];
      values = [];
      this.timestamps[keyId] = timestamps;
      this.values[keyId] = values;
    }
    let index = timestamps.length;
    while (index > 0 && timestamps[index - 1]! > t) index--;
    timestamps.splice(index, 0, t);
    const at = index * this.fieldCount;
    if (at === values.length) for (let f = 0; f < this.fieldCount; f++) values.push(record[f]!);
    else values.splice(at, 0, ...record);
    return index;
  }

  private remove(keyId: number, index: number): void {
    this.timestamps[keyId]!.splice(index, 1);
    this.values[keyId]!.splice(index * this.fieldCount, this.fieldCount);
  }

  /** Drops records no open or future window can hold: every window with p ends by p + d + 1. */
  private prune(keyId: number): void {
    const timestamps = this.timestamps[keyId];
    if (timestamps === undefined) return;
    const closedUpTo = this.context.watermark() - this.context.graceMs;
    let drop = 0;
    while (drop < timestamps.length && timestamps[drop]! + this.differenceMs + 1 <= closedUpTo) drop++;
    if (drop === 0) return;
    timestamps.splice(0, drop);
    this.values[keyId]!.splice(0, drop * this.fieldCount);
  }
}
