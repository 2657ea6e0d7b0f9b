import type { AggregationPlan } from "../aggregate/aggregation-plan.ts";
import type { AggregateValue, MomentStatistic, WindowAggregates } from "../aggregate/aggregator.ts";
import { momentStatistic } from "../aggregate/moments.ts";

/**
 * The open windows of one operator, as rows of a Float64Array indexed by slot: no object per
 * window and none per record for the moment statistics (Welford state per field), one
 * object per window per t-digest or custom aggregator. Freed slots are reused; a generation
 * number per slot lets the close queue recognise entries of a slot that was freed and reused.
 *
 * Each key's open windows form a doubly linked list through the `links` array, newest
 * first, so the common case (a record for the key's newest window) is found on the first probe.
 */
/**
 * The objects array of every table whose plan has no object aggregator (moment statistics
 * only, as the sensor windows): never written, since every write is per object aggregator. One
 * per table was 100k arrays at 100k sensors.
 */
const NO_OBJECTS: unknown[] = [];

export class WindowTable {
  readonly plan: AggregationPlan;
  private readonly fieldCount: number;
  private readonly objectCount: number;
  /** doubles per slot: start, end, seq, count, then [mean, m2, sum, min, max] per field */
  private readonly stride: number;
  capacity = 0;
  live = 0;
  keyHead = new Int32Array(0);
  /** row-major: one slot's numbers share a cache line or two, which matters at 100k keys */
  private rows = new Float64Array(0);
  /** per slot: keyId, generation, next in key, previous in key */
  private links = new Int32Array(0);
  /** per field: 1 when its statistics are exactly SUMMARY, in that order (`summaryOf` builds them) */
  private readonly summaryFields: Uint8Array;
  /** per slot, one state per t-digest or custom aggregator; shared and empty when there are none */
  private objects: unknown[] = NO_OBJECTS;
  private free = new Int32Array(0);
  private freeCount = 0;

  constructor(plan: AggregationPlan, initialCapacity = 1024) {
    this.plan = plan;
    this.fieldCount = plan.fields.length;
    this.objectCount = plan.objects.length;
    if (this.objectCount > 0) this.objects = [];
    this.stride = 4 + 5 * this.fieldCount;
    this.summaryFields = Uint8Array.from(plan.moments, (moments) => (isSummary(moments) ? 1 : 0));
    this.initialCapacity = Math.max(1, initialCapacity);
    this.grow(this.initialCapacity);
  }

  /** the first size of every array; small for an operator that owns one key (one sensor) */
  private readonly initialCapacity: number;

  startOf(slot: number): number {
    return this.rows[slot * this.stride]!;
  }

  endOf(slot: number): number {
    return this.rows[slot * this.stride + 1]!;
  }

  seqOf(slot: number): number {
    return this.rows[slot * this.stride + 2]!;
  }

  countOf(slot: number): number {
    return this.rows[slot * this.stride + 3]!;
  }

  setStart(slot: number, start: number): void {
    this.rows[slot * this.stride] = start;
  }

  setEnd(slot: number, end: number): void {
    this.rows[slot * this.stride + 1] = end;
  }

  keyIdOf(slot: number): number {
    return this.links[slot * 4]!;
  }

  generationOf(slot: number): number {
    return this.links[slot * 4 + 1]!;
  }

  nextOf(slot: number): number {
    return this.links[slot * 4 + 2]!;
  }

  /** Makes room for key ids below `keyCount` in the per-key list heads. */
  ensureKeys(keyCount: number): void {
    if (keyCount <= this.keyHead.length) return;
    const heads = new Int32Array(Math.max(keyCount, this.keyHead.length * 2, this.initialCapacity)).fill(-1);
    heads.set(this.keyHead);
    this.keyHead = heads;
  }

  allocate(keyId: number, start: number, end: number, seq: number): number {
    if (this.freeCount === 0) this.grow(this.capacity * 2);
    const slot = this.free[--this.freeCount]!;
    this.live++;
    const links = this.links;
    const head = this.keyHead[keyId]!;
    links[slot * 4] = keyId;
    links[slot * 4 + 2] = head;
    links[slot * 4 + 3] = -1;
    if (head >= 0) links[head * 4 + 3] = slot;
    this.keyHead[keyId] = slot;
    const rows = this.rows;
    const base = slot * this.stride;
    rows[base] = start;
    rows[base + 1] = end;
    rows[base + 2] = seq;
    rows[base + 3] = 0;
    for (let f = 0, i = base + 4; f < this.fieldCount; f++, i += 5) {
      rows[i] = 0;
      rows[i + 1] = 0;
      rows[i + 2] = 0;
      rows[i + 3] = Number.POSITIVE_INFINITY;
      rows[i + 4] = Number.NEGATIVE_INFINITY;
    }
    const objectBase = slot * this.objectCount;
    for (let j = 0; j < this.objectCount; j++) {
      this.objects[objectBase + j] = this.plan.objects[j]!.aggregator.create();
    }
    return slot;
  }

  release(slot: number): void {
    const links = this.links;
    const next = links[slot * 4 + 2]!;
    const prev = links[slot * 4 + 3]!;
    if (prev >= 0) links[prev * 4 + 2] = next;
    else this.keyHead[links[slot * 4]!] = next;
    if (next >= 0) links[next * 4 + 3] = prev;
    links[slot * 4 + 1] = (links[slot * 4 + 1]! + 1) | 0;
    const objectBase = slot * this.objectCount;
    for (let j = 0; j < this.objectCount; j++) this.objects[objectBase + j] = undefined;
    this.free[this.freeCount++] = slot;
    this.live--;
  }

  /** Adds one record whose field values are `values[offset .. offset + fields)`. */
  add(slot: number, values: ArrayLike<number>, offset: number): void {
    const rows = this.rows;
    const base = slot * this.stride;
    const n = rows[base + 3]! + 1;
    rows[base + 3] = n;
    if (this.plan.needsMoments) {
      for (let f = 0, i = base + 4; f < this.fieldCount; f++, i += 5) {
        const x = values[offset + f]!;
        const delta = x - rows[i]!;
        const mean = rows[i]! + delta / n;
        rows[i] = mean;
        rows[i + 1] = rows[i + 1]! + delta * (x - mean);
        rows[i + 2] = rows[i + 2]! + x;
        if (x < rows[i + 3]!) rows[i + 3] = x;
        if (x > rows[i + 4]!) rows[i + 4] = x;
      }
    }
    if (this.objectCount > 0) {
      const objectBase = slot * this.objectCount;
      for (let j = 0; j < this.objectCount; j++) {
        const object = this.plan.objects[j]!;
        const acc = this.objects[objectBase + j];
        this.objects[objectBase + j] = object.aggregator.add(acc, values[offset + object.fieldIndex]!);
      }
    }
  }

  /** Folds `source` into `target` (Chan et al. pairwise moments, `merge` for objects). */
  merge(target: number, source: number): void {
    const rows = this.rows;
    const a = target * this.stride;
    const b = source * this.stride;
    const na = rows[a + 3]!;
    const nb = rows[b + 3]!;
    const n = na + nb;
    rows[a + 3] = n;
    for (let f = 0, i = a + 4, k = b + 4; f < this.fieldCount; f++, i += 5, k += 5) {
      if (nb === 0) break;
      if (na === 0) {
        for (let m = 0; m < 5; m++) rows[i + m] = rows[k + m]!;
        continue;
      }
      const delta = rows[k]! - rows[i]!;
      rows[i] = rows[i]! + (delta * nb) / n;
      rows[i + 1] = rows[i + 1]! + rows[k + 1]! + (delta * delta * na * nb) / n;
      rows[i + 2] = rows[i + 2]! + rows[k + 2]!;
      if (rows[k + 3]! < rows[i + 3]!) rows[i + 3] = rows[k + 3]!;
      if (rows[k + 4]! > rows[i + 4]!) rows[i + 4] = rows[k + 4]!;
    }
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const into = target * this.objectCount + j;
      this.objects[into] = aggregator.merge(this.objects[into], this.objects[source * this.objectCount + j]);
    }
  }

  aggregates(slot: number): WindowAggregates {
    const out: WindowAggregates = {};
    const rows = this.rows;
    const base = slot * this.stride;
    const n = rows[base + 3]!;
    for (let f = 0, i = base + 4; f < this.fieldCount; f++, i += 5) {
      if (this.summaryFields[f] === 1) {
        out[this.plan.fields[f]!] = summaryOf(n, rows[i]!, rows[i + 2]!, rows[i + 3]!, rows[i + 4]!);
        continue;
      }
      const field: Record<string, AggregateValue> = {};
      for (const statistic of this.plan.moments[f]!) {
        field[statistic] = momentStatistic(
          statistic,
          n,
          rows[i]!,
          rows[i + 1]!,
          rows[i + 2]!,
          rows[i + 3]!,
          rows[i + 4]!,
        );
      }
      out[this.plan.fields[f]!] = field;
    }
    for (let j = 0; j < this.objectCount; j++) {
      const object = this.plan.objects[j]!;
      const value = object.aggregator.result(this.objects[slot * this.objectCount + j]);
      const field = out[this.plan.fields[object.fieldIndex]!]!;
      if (object.spread && value !== null && typeof value === "object" && !Array.isArray(value)) {
        Object.assign(field, value);
      } else {
        field[object.name] = value;
      }
    }
    return out;
  }

  /** doubles of one window's state in a binary snapshot: count, then [mean, m2, sum, min, max] per field */
  get stateLength(): number {
    return 1 + 5 * this.fieldCount;
  }

  /** one window's count and moments into `out` from `at` (window-snapshot-bytes.ts: no object per window) */
  copyStateTo(slot: number, out: Float64Array, at: number): void {
    const rows = this.rows;
    const base = slot * this.stride + 3;
    for (let i = 0, n = 1 + 5 * this.fieldCount; i < n; i++) out[at + i] = rows[base + i]!;
  }

  copyStateFrom(slot: number, from: Float64Array, at: number): void {
    const rows = this.rows;
    const base = slot * this.stride + 3;
    for (let i = 0, n = 1 + 5 * this.fieldCount; i < n; i++) rows[base + i] = from[at + i]!;
  }

  /** the custom aggregators' states of one window, as JSON (empty without such aggregators) */
  objectsState(slot: number): unknown[] {
    const objects: unknown[] = [];
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const acc = this.objects[slot * this.objectCount + j];
      objects.push(aggregator.toJSON ? aggregator.toJSON(acc) : acc);
    }
    return objects;
  }

  restoreObjects(slot: number, states: readonly unknown[]): void {
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const json = states[j];
      this.objects[slot * this.objectCount + j] = aggregator.fromJSON ? aggregator.fromJSON(json) : json;
    }
  }

  /** The state of one window as plain JSON (snapshots and changelog entries). */
  windowState(slot: number): WindowStateJson {
    const moments: number[][] = [];
    const base = slot * this.stride;
    if (this.plan.needsMoments) {
      const rows = this.rows;
      // a literal, not Array.from(subarray): a checkpoint writes this for every open window of
      // every changed key, and the subarray view cost more than the five reads
      for (let f = 0, i = base + 4; f < this.fieldCount; f++, i += 5) {
        moments.push([rows[i]!, rows[i + 1]!, rows[i + 2]!, rows[i + 3]!, rows[i + 4]!]);
      }
    }
    const objects: unknown[] = [];
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const acc = this.objects[slot * this.objectCount + j];
      objects.push(aggregator.toJSON ? aggregator.toJSON(acc) : acc);
    }
    return { count: this.rows[base + 3]!, moments, objects };
  }

  restoreWindowState(slot: number, state: WindowStateJson): void {
    const base = slot * this.stride;
    this.rows[base + 3] = state.count;
    if (this.plan.needsMoments) {
      for (let f = 0, i = base + 4; f < this.fieldCount; f++, i += 5) {
        const [mean, m2, sum, min, max] = state.moments[f]!;
        this.rows[i] = mean!;
        this.rows[i + 1] = m2!;
        this.rows[i + 2] = sum!;
        // JSON turns +-Infinity into null: an empty window's min / max
        this.rows[i + 3] = min ?? Number.POSITIVE_INFINITY;
        this.rows[i + 4] = max ?? Number.NEGATIVE_INFINITY;
      }
    }
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const json = state.objects[j];
      this.objects[slot * this.objectCount + j] = aggregator.fromJSON ? aggregator.fromJSON(json) : json;
    }
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const rows = new Float64Array(capacity * this.stride);
    rows.set(this.rows);
    this.rows = rows;
    const links = new Int32Array(capacity * 4);
    links.set(this.links);
    this.links = links;
    if (this.objectCount > 0) this.objects.length = capacity * this.objectCount;
    const free = new Int32Array(capacity);
    free.set(this.free.subarray(0, this.freeCount));
    // hand out low slots first: push the new ones in descending order
    for (let slot = capacity - 1; slot >= old; slot--) free[this.freeCount++] = slot;
    this.free = free;
    this.capacity = capacity;
  }
}

export interface WindowStateJson {
  readonly count: number;
  /** per field: [mean, m2, sum, min, max]; empty when no moment statistic is configured */
  readonly moments: readonly (readonly (number | null)[])[];
  readonly objects: readonly unknown[];
}

/**
 * The statistics every sensor window asks for, in the order its results list them: a field that
 * asks for exactly these gets them as one object literal. Set one statistic at a time, by name,
 * the object took each key through a lookup of its own: 105 ns for a window's two fields, a
 * result for every window update and final.
 */
const SUMMARY: readonly MomentStatistic[] = ["count", "sum", "mean", "min", "max"];

const isSummary = (moments: readonly MomentStatistic[]) =>
  moments.length === SUMMARY.length && moments.every((statistic, i) => statistic === SUMMARY[i]);

/** what `momentStatistic` gives for each of SUMMARY (null where an empty window has no value) */
function summaryOf(
  n: number,
  mean: number,
  sum: number,
  min: number,
  max: number,
): Record<string, AggregateValue> {
  return n === 0 ? { count: 0, sum, mean: null, min: null, max: null } : { count: n, sum, mean, min, max };
}
