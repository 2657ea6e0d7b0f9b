import type { AggregationPlan } from "../aggregate/aggregation-plan.ts";
import type { AggregateValue, WindowAggregates } from "../aggregate/aggregator.ts";
import { momentStatistic } from "../aggregate/moments.ts";

/**
 * The open windows of one operator, as columns indexed by slot: no object per window and none
 * per record for the moment statistics (Welford state per field lives in Float64Arrays), one
 * object per window per t-digest or custom aggregator. Freed slots are reused; a generation
 * number per slot lets the close queue recognise entries of a slot that was freed and reused.
 *
 * Each key's open windows form a doubly linked list through `nextInKey` / `prevInKey`, newest
 * first, so the common case (a record for the key's newest window) is found on the first probe.
 */
export class WindowTable {
  readonly plan: AggregationPlan;
  private readonly fieldCount: number;
  private readonly objectCount: number;
  capacity = 0;
  live = 0;
  keyId = new Int32Array(0);
  start = new Float64Array(0);
  end = new Float64Array(0);
  seq = new Float64Array(0);
  count = new Float64Array(0);
  generation = new Int32Array(0);
  nextInKey = new Int32Array(0);
  prevInKey = new Int32Array(0);
  keyHead = new Int32Array(0);
  private mean = new Float64Array(0);
  private m2 = new Float64Array(0);
  private sum = new Float64Array(0);
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private objects: unknown[] = [];
  private free = new Int32Array(0);
  private freeCount = 0;

  constructor(plan: AggregationPlan) {
    this.plan = plan;
    this.fieldCount = plan.fields.length;
    this.objectCount = plan.objects.length;
    this.grow(1024);
  }

  /** Makes room for key ids below `keyCount` in the per-key list heads. */
  ensureKeys(keyCount: number): void {
    if (keyCount <= this.keyHead.length) return;
    const heads = new Int32Array(Math.max(keyCount, this.keyHead.length * 2, 1024)).fill(-1);
    heads.set(this.keyHead);
    this.keyHead = heads;
  }

  allocate(keyId: number, start: number, end: number, seq: number): number {
    if (this.freeCount === 0) this.grow(this.capacity * 2);
    const slot = this.free[--this.freeCount]!;
    this.live++;
    this.keyId[slot] = keyId;
    this.start[slot] = start;
    this.end[slot] = end;
    this.seq[slot] = seq;
    this.count[slot] = 0;
    const head = this.keyHead[keyId]!;
    this.nextInKey[slot] = head;
    this.prevInKey[slot] = -1;
    if (head >= 0) this.prevInKey[head] = slot;
    this.keyHead[keyId] = slot;
    const base = slot * this.fieldCount;
    for (let f = 0; f < this.fieldCount; f++) {
      this.mean[base + f] = 0;
      this.m2[base + f] = 0;
      this.sum[base + f] = 0;
      this.min[base + f] = Number.POSITIVE_INFINITY;
      this.max[base + f] = Number.NEGATIVE_INFINITY;
    }
    const objectBase = slot * this.objectCount;
    for (let j = 0; j < this.objectCount; j++) {
      this.objects[objectBase + j] = this.plan.objects[j]!.aggregator.create();
    }
    return slot;
  }

  release(slot: number): void {
    const next = this.nextInKey[slot]!;
    const prev = this.prevInKey[slot]!;
    if (prev >= 0) this.nextInKey[prev] = next;
    else this.keyHead[this.keyId[slot]!] = next;
    if (next >= 0) this.prevInKey[next] = prev;
    this.generation[slot] = (this.generation[slot]! + 1) | 0;
    const objectBase = slot * this.objectCount;
    for (let j = 0; j < this.objectCount; j++) this.objects[objectBase + j] = undefined;
    this.free[this.freeCount++] = slot;
    this.live--;
  }

  /** Adds one record whose field values are `values[offset .. offset + fields)`. */
  add(slot: number, values: ArrayLike<number>, offset: number): void {
    const n = this.count[slot]! + 1;
    this.count[slot] = n;
    if (this.plan.needsMoments) {
      const base = slot * this.fieldCount;
      for (let f = 0; f < this.fieldCount; f++) {
        const x = values[offset + f]!;
        const i = base + f;
        const delta = x - this.mean[i]!;
        const mean = this.mean[i]! + delta / n;
        this.mean[i] = mean;
        this.m2[i] = this.m2[i]! + delta * (x - mean);
        this.sum[i] = this.sum[i]! + x;
        if (x < this.min[i]!) this.min[i] = x;
        if (x > this.max[i]!) this.max[i] = x;
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
    const na = this.count[target]!;
    const nb = this.count[source]!;
    const n = na + nb;
    this.count[target] = n;
    if (nb > 0 && na > 0) {
      for (let f = 0; f < this.fieldCount; f++) {
        const i = target * this.fieldCount + f;
        const k = source * this.fieldCount + f;
        const delta = this.mean[k]! - this.mean[i]!;
        this.mean[i] = this.mean[i]! + (delta * nb) / n;
        this.m2[i] = this.m2[i]! + this.m2[k]! + (delta * delta * na * nb) / n;
        this.sum[i] = this.sum[i]! + this.sum[k]!;
        if (this.min[k]! < this.min[i]!) this.min[i] = this.min[k]!;
        if (this.max[k]! > this.max[i]!) this.max[i] = this.max[k]!;
      }
    } else if (nb > 0) {
      this.copyMoments(source, target);
    }
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const into = target * this.objectCount + j;
      this.objects[into] = aggregator.merge(this.objects[into], this.objects[source * this.objectCount + j]);
    }
  }

  aggregates(slot: number): WindowAggregates {
    const out: WindowAggregates = {};
    const n = this.count[slot]!;
    for (let f = 0; f < this.fieldCount; f++) {
      const field: Record<string, AggregateValue> = {};
      const i = slot * this.fieldCount + f;
      for (const statistic of this.plan.moments[f]!) {
        field[statistic] = momentStatistic(
          statistic,
          n,
          this.mean[i]!,
          this.m2[i]!,
          this.sum[i]!,
          this.min[i]!,
          this.max[i]!,
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

  /** The state of one window as plain JSON (snapshots and changelog entries). */
  windowState(slot: number): WindowStateJson {
    const moments: number[][] = [];
    for (let f = 0; f < this.fieldCount; f++) {
      const i = slot * this.fieldCount + f;
      moments.push([this.mean[i]!, this.m2[i]!, this.sum[i]!, this.min[i]!, this.max[i]!]);
    }
    const objects: unknown[] = [];
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const acc = this.objects[slot * this.objectCount + j];
      objects.push(aggregator.toJSON ? aggregator.toJSON(acc) : acc);
    }
    return { count: this.count[slot]!, moments: this.plan.needsMoments ? moments : [], objects };
  }

  restoreWindowState(slot: number, state: WindowStateJson): void {
    this.count[slot] = state.count;
    if (this.plan.needsMoments) {
      for (let f = 0; f < this.fieldCount; f++) {
        const [mean, m2, sum, min, max] = state.moments[f]!;
        const i = slot * this.fieldCount + f;
        this.mean[i] = mean!;
        this.m2[i] = m2!;
        this.sum[i] = sum!;
        // JSON turns +-Infinity into null: an empty window's min / max
        this.min[i] = min ?? Number.POSITIVE_INFINITY;
        this.max[i] = max ?? Number.NEGATIVE_INFINITY;
      }
    }
    for (let j = 0; j < this.objectCount; j++) {
      const aggregator = this.plan.objects[j]!.aggregator;
      const json = state.objects[j];
      this.objects[slot * this.objectCount + j] = aggregator.fromJSON ? aggregator.fromJSON(json) : json;
    }
  }

  private copyMoments(from: number, to: number): void {
    for (let f = 0; f < this.fieldCount; f++) {
      const i = to * this.fieldCount + f;
      const k = from * this.fieldCount + f;
      this.mean[i] = this.mean[k]!;
      this.m2[i] = this.m2[k]!;
      this.sum[i] = this.sum[k]!;
      this.min[i] = this.min[k]!;
      this.max[i] = this.max[k]!;
    }
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const F = this.fieldCount;
    this.keyId = grown(this.keyId, capacity);
    this.start = grown(this.start, capacity);
    this.end = grown(this.end, capacity);
    this.seq = grown(this.seq, capacity);
    this.count = grown(this.count, capacity);
    this.generation = grown(this.generation, capacity);
    this.nextInKey = grown(this.nextInKey, capacity);
    this.prevInKey = grown(this.prevInKey, capacity);
    this.mean = grown(this.mean, capacity * F);
    this.m2 = grown(this.m2, capacity * F);
    this.sum = grown(this.sum, capacity * F);
    this.min = grown(this.min, capacity * F);
    this.max = grown(this.max, capacity * F);
    this.objects.length = capacity * this.objectCount;
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

function grown<T extends Int32Array | Float64Array>(array: T, length: number): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array);
  return next;
}
