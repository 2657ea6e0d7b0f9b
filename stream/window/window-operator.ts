import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { compileAggregations } from "../aggregate/aggregation-plan.ts";
import type { AggregatorSpec } from "../aggregate/aggregator.ts";
import { type PartitionWatermark, PartitionWatermarks } from "../watermark/partition-watermarks.ts";
import { AlignedCloseQueue } from "./aligned-close-queue.ts";
import { CloseQueue } from "./close-queue.ts";
import { KeyDictionary } from "./key-dictionary.ts";
import { copyValues, timestampProblem, valueProblem, valuesRecord } from "./record-validation.ts";
import { SessionPlacement } from "./session-placement.ts";
import { SlidingPlacement } from "./sliding-placement.ts";
import { TimeWindowPlacement } from "./time-window-placement.ts";
import { UpdateCache } from "./update-cache.ts";
import type { WindowAssigner } from "./window-assigner.ts";
import type { WindowOutput } from "./window-output.ts";
import type { PlacementContext, RecordPlacement } from "./window-placement.ts";
import {
  readSnapshot,
  type WindowEntryJson,
  type WindowOperatorSnapshot,
  writeSnapshot,
} from "./window-snapshot.ts";
import {
  encodeSnapshotBytes,
  readKeySnapshotBytes,
  readSnapshotBytes,
  type SnapshotBytesSource,
} from "./window-snapshot-bytes.ts";
import { WindowTable } from "./window-table.ts";

export type EmitMode = "on-update" | "final";
export type TimeDomain = "event" | "processing";

export interface WindowOperatorConfig {
  readonly assigner: WindowAssigner;
  /** measurement field -> how to aggregate it; the key order is the Float64Array field order */
  readonly aggregators: Readonly<Record<string, readonly AggregatorSpec[]>>;
  readonly watermark?: {
    /** bounded out-of-orderness per partition; default 0 */
    readonly maxOutOfOrdernessMs?: number;
    /** processing-time silence after which a partition stops holding the watermark; default off */
    readonly idleTimeoutMs?: number;
    /**
     * Whose event time closes windows and calls records late. "partition" (default): each
     * record lifts its partition's watermark (max event time minus the bound), and the operator
     * watermark is the minimum over partitions. "key": each key's own stream time (its max
     * event time minus the bound) closes its windows and calls its records late; records never
     * move the operator watermark, only `advanceWatermark` does, which closes any key's windows
     * it passes and lifts those keys' stream time to it (a key without a window to close keeps
     * its own). One operator for many keys then judges each key exactly as an operator of its
     * own did when the node woke it with the watermark at its windows' close times, whatever
     * order the keys' records are interleaved in: what a partition's keys need when their
     * records reach the operator through per-key actors (each key in log order, the keys in
     * scheduler order).
     */
    readonly streamTime?: "partition" | "key";
  };
  /** allowed lateness: a window closes when watermark >= end + graceMs; default 0 */
  readonly graceMs?: number;
  /** default "final" */
  readonly emit?: EmitMode;
  /**
   * On-update emission through a record cache (Kafka Streams' KIP-63, `update-cache.ts`): a
   * changed window's update waits for `flushUpdates`, and only its latest state goes out; a
   * window that closes first emits only its final result. The caller flushes at the end of each
   * input batch and before every checkpoint. Default false: every record emits its updates.
   */
  readonly cacheUpdates?: boolean;
  /**
   * cacheUpdates: at most this many windows' updates held; past it the oldest held ones are
   * emitted at once (Kafka Streams' cache eviction when `statestore.cache.max.bytes` is full).
   * Default unbounded: a caller that flushes per input batch holds at most a batch's windows.
   */
  readonly cacheMaxEntries?: number;
  /** event times further ahead of the processing clock are rejected; default 1 h */
  readonly maxFutureMs?: number;
  /** default "event"; on "processing" the clock stamps each record and closes windows */
  readonly timeDomain?: TimeDomain;
  /** the processing clock in epoch ms; default Date.now */
  readonly clock?: () => number;
  /**
   * Open windows the operator makes room for up front (it grows as needed); default 1024. An
   * operator that owns a single key (a per-sensor window actor) wants a handful: each slot of
   * the default costs ~150 bytes, so 1024 slots is ~160 KB per operator.
   */
  readonly initialCapacity?: number;
}

export interface WindowOperatorStats {
  readonly openWindows: number;
  readonly keys: number;
  readonly processed: number;
  readonly emitted: number;
  readonly late: number;
  readonly rejected: number;
  /** null until the first valid record */
  readonly watermark: number | null;
  readonly partitions: readonly PartitionWatermark[];
}

export interface WindowOperator {
  readonly config: WindowOperatorConfig;
  /** field names in Float64Array order */
  readonly fields: readonly string[];
  process(
    partition: number,
    key: string,
    eventTime: number,
    values: Readonly<Record<string, number>> | Float64Array,
    out: WindowOutput,
  ): void;
  /**
   * The dense integer id of a key. Callers that see the same keys again (a sensor actor, a
   * shard with a fixed key set) intern once and call `processInterned`, skipping a string-map
   * lookup per record.
   */
  internKey(key: string): number;
  /** the key of an id from `internKey` */
  keyOf(keyId: number): string;
  /** the id of a key interned before; undefined for a key never seen (nothing is interned) */
  keyIdOf(key: string): number | undefined;
  /** `process` for a key id from `internKey` */
  processInterned(
    partition: number,
    keyId: number,
    eventTime: number,
    values: Readonly<Record<string, number>> | Float64Array,
    out: WindowOutput,
  ): void;
  /**
   * `process` for a batch of one partition's records: record i has key `keys[i]`, event time
   * `eventTimes[i]` and its field values at `values[i * fields.length ...]` (in `fields` order).
   * The same outputs as `process` record by record; faster with many keys, because the keys are
   * interned a group at a time: the string lookups of a group overlap in memory instead of each
   * waiting for the last (group prefetching, as hash joins do), and the clock is read once a group.
   */
  processBatch(
    partition: number,
    keys: readonly string[],
    eventTimes: ArrayLike<number>,
    values: Float64Array,
    out: WindowOutput,
  ): void;
  /** processing time passed: idle partitions are detected, processing-time windows close */
  advanceProcessingTime(now: number, out: WindowOutput): void;
  /** lifts the watermark (upstream punctuation, end of a bounded input) and closes windows */
  advanceWatermark(watermark: number, out: WindowOutput): void;
  /** when the earliest open window may close (its end plus grace); +Infinity when none is open */
  nextCloseAt(): number;
  /** closes every open window, in close order (shutdown, partition revoked) */
  flush(out: WindowOutput): void;
  /**
   * `cacheUpdates`: emits the latest update of every open window changed since the last call,
   * once each, in the order they first changed; nothing otherwise.
   */
  flushUpdates(out: WindowOutput): void;
  snapshot(): WindowOperatorSnapshot;
  /**
   * The same state as bytes (window-snapshot-bytes.ts), written straight from the table with
   * `appliedOffset` (the owner's last applied input offset) in its header: what a checkpoint
   * writes to the changelog.
   */
  snapshotBytes(appliedOffset?: number): Uint8Array;
  /** from `snapshot()` or `snapshotBytes()` */
  restore(snapshot: WindowOperatorSnapshot | Uint8Array): void;
  /**
   * streamTime "key": one key's state in the form an operator of its own writes (its open
   * windows, its stream time as its partition's watermark), so a key's state can be kept, and
   * changelogged, per key while one operator holds many. Undefined for a key never seen.
   */
  snapshotKey(key: string): WindowOperatorSnapshot | undefined;
  /**
   * streamTime "key": `snapshotKey` as the bytes an operator of the key's own writes (what
   * `snapshotBytes` of that operator gives), written straight from the table's rows, with
   * `appliedOffset` in the header and `partition` as the key's input partition. Undefined for a
   * key never seen.
   */
  snapshotKeyBytes(key: string, appliedOffset: number, partition: number): Uint8Array | undefined;
  /**
   * streamTime "key": adds one key's state (from `snapshotKey`, or from an operator that owned
   * only that key) to this operator, beside the keys it holds; the key must have no open window.
   */
  restoreKey(key: string, snapshot: WindowOperatorSnapshot): void;
  /**
   * streamTime "key": `restoreKey` of a key's snapshot bytes (from `snapshotKeyBytes`, or
   * `snapshotBytes` of an operator that owned only that key), read straight into this operator's
   * table: the same state as restoring them into an operator of the key's own and `restoreKey`
   * of its `snapshot()`, with the same refusals, and nothing added when they fail. Returns the
   * applied offset in their header.
   */
  restoreKeyBytes(key: string, bytes: Uint8Array): number;
  stats(): WindowOperatorStats;
}

const HOUR_MS = 3_600_000;
/**
 * streamTime "key" only: per key id, its max event time and its last partition. Empty and
 * shared until an operator of that mode interns a key (it then makes its own, never writing
 * these): at 100k per-sensor operators two empty typed arrays each were 200k objects.
 */
const NO_KEY_TIMES = new Float64Array(0);
const NO_KEY_PARTITIONS = new Int32Array(0);
const MAX_PARTITION = 65_535;
/** a key with no stream time yet names no partition */
const NO_PARTITIONS: readonly PartitionWatermark[] = [];
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** the encoder's source for one key's state, refilled in place (snapshotKeyBytes) */
type KeySnapshotSource = Mutable<Omit<SnapshotBytesSource, "onlyKey">> & {
  readonly onlyKey: Mutable<NonNullable<SnapshotBytesSource["onlyKey"]>>;
};
/** a key's own state counts nothing of the operator it was taken from */
const NO_COUNTS = { processed: 0, emitted: 0, late: 0, rejected: 0 } as const;
/** processBatch interns this many keys before it places their records */
const BATCH_GROUP = 64;

export function createWindowOperator(config: WindowOperatorConfig): WindowOperator {
  return new EventWindowOperator(config);
}

class EventWindowOperator implements WindowOperator, PlacementContext {
  readonly config: WindowOperatorConfig;
  readonly fields: readonly string[];
  readonly graceMs: number;
  table: WindowTable;
  private readonly clock: () => number;
  private readonly processingTime: boolean;
  private readonly onUpdate: boolean;
  private readonly maxFutureMs: number;
  private readonly scratch: Float64Array;
  private placement: RecordPlacement;
  private keys = new KeyDictionary();
  private queue: CloseQueue | AlignedCloseQueue;
  private watermarks: PartitionWatermarks;
  private nextSeq = 0;
  private touched = new Int32Array(8);
  private touchedCount = 0;
  /** cacheUpdates: the windows changed since the last flushUpdates */
  private readonly updates: UpdateCache | undefined;
  private readonly cacheMaxEntries: number;
  private now: number;
  private counts = { processed: 0, emitted: 0, late: 0, rejected: 0 };
  /** streamTime "key": per key id, its max event time (-Infinity before its first record) */
  private readonly keyStreamTime: boolean;
  private readonly maxOutOfOrdernessMs: number;
  private keyMax = NO_KEY_TIMES;
  /** streamTime "key": per key id, the partition of its last record */
  private keyPartition = NO_KEY_PARTITIONS;
  /** the watermark the record being placed is judged by (its key's, in "key" mode) */
  private placingWatermark = Number.NEGATIVE_INFINITY;
  /** streamTime "key": the windows one key closes at once, made on first use */
  private ready: Int32Array | undefined;
  /** snapshotKeyBytes: what it hands the encoder, made on its first call and refilled per key */
  private keySource: KeySnapshotSource | undefined;
  private readonly keyPartitionEntry: Mutable<PartitionWatermark> = {
    partition: 0,
    maxEventTime: 0,
    watermark: 0,
    idle: false,
    lastRecordAt: 0,
  };
  private readonly keyPartitionList: PartitionWatermark[] = [];
  /** processBatch: the key ids of one group (made on the first batch), and one record's values */
  private batchIds: Int32Array | undefined;
  private batchRow: Float64Array | undefined;

  constructor(config: WindowOperatorConfig) {
    this.config = config;
    const plan = compileAggregations(config.aggregators);
    this.fields = plan.fields;
    this.table = new WindowTable(plan, config.initialCapacity);
    this.queue = this.createQueue();
    this.scratch = new Float64Array(plan.fields.length);
    this.clock = config.clock ?? Date.now;
    this.processingTime = config.timeDomain === "processing";
    this.onUpdate = (config.emit ?? "final") === "on-update";
    this.updates = this.onUpdate && config.cacheUpdates === true ? new UpdateCache() : undefined;
    this.cacheMaxEntries = config.cacheMaxEntries ?? Number.POSITIVE_INFINITY;
    if (!(this.cacheMaxEntries >= 1))
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "cacheMaxEntries must be at least 1", {
        details: { cacheMaxEntries: config.cacheMaxEntries },
      });
    this.graceMs = this.processingTime ? 0 : nonNegative("graceMs", config.graceMs ?? 0);
    this.maxFutureMs = nonNegative("maxFutureMs", config.maxFutureMs ?? HOUR_MS);
    this.maxOutOfOrdernessMs = nonNegative("maxOutOfOrdernessMs", config.watermark?.maxOutOfOrdernessMs ?? 0);
    this.watermarks = new PartitionWatermarks(
      this.maxOutOfOrdernessMs,
      nonNegative("idleTimeoutMs", config.watermark?.idleTimeoutMs ?? Number.POSITIVE_INFINITY),
    );
    this.keyStreamTime = config.watermark?.streamTime === "key";
    if (this.keyStreamTime && this.processingTime) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "per-key stream time needs event time", {
        details: { streamTime: "key", timeDomain: "processing" },
      });
    }
    this.placement = this.createPlacement();
    this.now = this.clock();
  }

  internKey(key: string): number {
    const keyId = this.keys.intern(key);
    if (keyId >= this.table.keyHead.length) this.table.ensureKeys(keyId + 1);
    if (this.keyStreamTime && keyId >= this.keyMax.length) {
      const grown = new Float64Array(Math.max(keyId + 1, this.keyMax.length * 2, 8)).fill(
        Number.NEGATIVE_INFINITY,
      );
      grown.set(this.keyMax);
      this.keyMax = grown;
      const partitions = new Int32Array(grown.length);
      partitions.set(this.keyPartition);
      this.keyPartition = partitions;
    }
    return keyId;
  }

  keyOf(keyId: number): string {
    return this.keys.keyOf(keyId);
  }

  keyIdOf(key: string): number | undefined {
    return this.keys.idOf(key);
  }

  process(
    partition: number,
    key: string,
    eventTime: number,
    values: Readonly<Record<string, number>> | Float64Array,
    out: WindowOutput,
  ): void {
    this.processInterned(partition, this.internKey(key), eventTime, values, out);
  }

  processInterned(
    partition: number,
    keyId: number,
    eventTime: number,
    values: Readonly<Record<string, number>> | Float64Array,
    out: WindowOutput,
  ): void {
    if (!(keyId >= 0 && keyId < this.keys.size)) {
      throw new PlatformError(ErrorCodes.OUT_OF_RANGE, "key id was not returned by internKey", {
        details: { keyId },
      });
    }
    checkPartition(partition);
    const now = this.clock();
    this.now = now;
    this.apply(partition, keyId, eventTime, values, now, out);
  }

  processBatch(
    partition: number,
    keys: readonly string[],
    eventTimes: ArrayLike<number>,
    values: Float64Array,
    out: WindowOutput,
  ): void {
    checkPartition(partition);
    const count = keys.length;
    const width = this.fields.length;
    if (eventTimes.length !== count || values.length !== count * width) {
      throw new PlatformError(
        ErrorCodes.OUT_OF_RANGE,
        "a batch needs one event time and one row of values per key",
        {
          details: { keys: count, eventTimes: eventTimes.length, values: values.length, fields: width },
        },
      );
    }
    this.batchIds ??= new Int32Array(BATCH_GROUP);
    const ids = this.batchIds;
    this.batchRow ??= new Float64Array(width);
    const row = this.batchRow;
    for (let from = 0; from < count; from += BATCH_GROUP) {
      const to = Math.min(from + BATCH_GROUP, count);
      for (let i = from; i < to; i++) ids[i - from] = this.internKey(keys[i]!);
      const now = this.clock();
      this.now = now;
      for (let i = from; i < to; i++) {
        for (let f = 0, at = i * width; f < width; f++, at++) row[f] = values[at]!;
        this.apply(partition, ids[i - from]!, eventTimes[i]!, row, now, out);
      }
    }
  }

  /** one record of a checked partition and key id, at processing time `now` */
  private apply(
    partition: number,
    keyId: number,
    eventTime: number,
    values: Readonly<Record<string, number>> | Float64Array,
    now: number,
    out: WindowOutput,
  ): void {
    const timestamp = this.processingTime ? now : eventTime;
    const problem = timestampProblem(timestamp, now, this.maxFutureMs);
    if (problem !== null) {
      this.reject(out, partition, this.keys.keyOf(keyId), eventTime, values, problem, undefined);
      return;
    }
    const badField = copyValues(this.fields, values, this.scratch);
    if (badField >= 0) {
      const reason = valueProblem(this.fields, values, badField);
      this.reject(out, partition, this.keys.keyOf(keyId), eventTime, values, reason, this.fields[badField]);
      return;
    }
    this.counts.processed++;
    if (this.keyStreamTime) {
      this.keyPartition[keyId] = partition;
      if (timestamp > this.keyMax[keyId]!) {
        this.keyMax[keyId] = timestamp;
        this.closeKey(keyId, timestamp - this.maxOutOfOrdernessMs, out);
      }
      this.placingWatermark = this.keyMax[keyId]! - this.maxOutOfOrdernessMs;
    } else {
      const advanced = this.processingTime
        ? this.watermarks.advanceTo(now)
        : this.watermarks.observe(partition, timestamp, now);
      if (advanced) this.closeReady(out);
    }
    this.touchedCount = 0;
    if (!this.placement.place(keyId, timestamp, this.scratch)) {
      this.counts.late++;
      out.late.push({
        partition,
        key: this.keys.keyOf(keyId),
        eventTime: timestamp,
        values: valuesRecord(this.fields, values),
        reason: this.placement.lateReason,
        watermark: this.watermark(),
      });
      return;
    }
    if (this.onUpdate && this.updates === undefined) {
      for (let i = 0; i < this.touchedCount; i++) this.emit(this.touched[i]!, false, out);
    } else if (this.updates !== undefined && this.updates.held > this.cacheMaxEntries) {
      // the cache is full: its oldest held updates go out now (the windows this record just
      // changed are the newest held, and at least one window stays held)
      const table = this.table;
      this.updates.evictOldest(
        this.cacheMaxEntries,
        (slot) => table.generationOf(slot),
        (slot) => this.emit(slot, false, out),
      );
    }
  }

  advanceProcessingTime(now: number, out: WindowOutput): void {
    this.now = now;
    const advanced = this.processingTime ? this.watermarks.advanceTo(now) : this.watermarks.checkIdle(now);
    if (advanced) this.closeReady(out);
  }

  advanceWatermark(watermark: number, out: WindowOutput): void {
    if (this.watermarks.advanceTo(watermark)) this.closeReady(out);
  }

  nextCloseAt(): number {
    return this.queue.peekCloseAt();
  }

  flush(out: WindowOutput): void {
    this.closeUpTo(Number.POSITIVE_INFINITY, out);
  }

  flushUpdates(out: WindowOutput): void {
    const updates = this.updates;
    if (updates === undefined || updates.size === 0) return;
    const table = this.table;
    updates.drain(
      (slot) => table.generationOf(slot),
      (slot) => this.emit(slot, false, out),
    );
  }

  /** what both snapshot encodings read: the operator's state as it stands */
  private snapshotSource() {
    return {
      config: this.config,
      fields: this.fields,
      table: this.table,
      keys: this.keys,
      watermarks: this.watermarks,
      placement: this.placement,
      nextSeq: this.nextSeq,
      counts: this.counts,
    };
  }

  snapshot(): WindowOperatorSnapshot {
    const snapshot = writeSnapshot(this.snapshotSource());
    if (!this.keyStreamTime) return snapshot;
    const keyStreamTimes: [string, number][] = [];
    for (let keyId = 0; keyId < this.keys.size; keyId++) {
      const max = this.keyMax[keyId]!;
      if (max !== Number.NEGATIVE_INFINITY) keyStreamTimes.push([this.keys.keyOf(keyId), max]);
    }
    return { ...snapshot, keyStreamTimes };
  }

  snapshotBytes(appliedOffset = -1): Uint8Array {
    const source = this.snapshotSource();
    return encodeSnapshotBytes(
      this.keyStreamTime ? { ...source, keyStreamTime: (keyId: number) => this.keyMax[keyId]! } : source,
      appliedOffset,
    );
  }

  restore(snapshot: WindowOperatorSnapshot | Uint8Array): void {
    this.table = new WindowTable(this.table.plan, this.config.initialCapacity);
    this.keys = new KeyDictionary();
    this.updates?.clear(); // they name slots of the table just replaced
    this.queue = this.createQueue();
    this.placement = this.createPlacement();
    const parts = {
      config: this.config,
      fields: this.fields,
      table: this.table,
      keys: this.keys,
      watermarks: this.watermarks,
      placement: this.placement,
      requeue: (slot: number) =>
        this.queue.push(this.closeAtOf(slot), this.table.seqOf(slot), slot, this.table.generationOf(slot)),
    };
    const restored =
      snapshot instanceof Uint8Array ? readSnapshotBytes(snapshot, parts) : readSnapshot(snapshot, parts);
    const keyStreamTimes =
      "keyStreamTimes" in restored
        ? restored.keyStreamTimes
        : (snapshot as WindowOperatorSnapshot).keyStreamTimes;
    this.nextSeq = restored.nextSeq;
    this.counts = { ...restored.counts };
    this.keyMax = NO_KEY_TIMES;
    this.keyPartition = NO_KEY_PARTITIONS;
    if (this.keyStreamTime) {
      for (let keyId = 0; keyId < this.keys.size; keyId++) this.internKey(this.keys.keyOf(keyId));
      for (const [key, max] of keyStreamTimes ?? []) this.keyMax[this.internKey(key)] = max;
    }
  }

  snapshotKey(key: string): WindowOperatorSnapshot | undefined {
    this.requireKeyStreamTime("snapshotKey");
    const keyId = this.keys.idOf(key);
    if (keyId === undefined) return undefined;
    const table = this.table;
    const windows: WindowEntryJson[] = [];
    for (let slot = table.keyHead[keyId]!; slot >= 0; slot = table.nextOf(slot))
      windows.push({
        key,
        start: table.startOf(slot),
        end: table.endOf(slot),
        seq: table.seqOf(slot),
        state: table.windowState(slot),
      });
    windows.sort((a, b) => a.seq - b.seq);
    const max = this.keyMax[keyId]!;
    const own = max - this.maxOutOfOrdernessMs;
    return {
      version: 1,
      assigner: this.config.assigner,
      fields: [...this.fields],
      watermark: own === Number.NEGATIVE_INFINITY ? null : own,
      partitions:
        max === Number.NEGATIVE_INFINITY
          ? []
          : [
              {
                partition: this.keyPartition[keyId]!,
                maxEventTime: max,
                watermark: max - this.maxOutOfOrdernessMs,
                idle: false,
                lastRecordAt: this.now,
              },
            ],
      nextSeq: this.nextSeq,
      counts: { processed: 0, emitted: 0, late: 0, rejected: 0 },
      windows,
      keyStates: (this.placement.snapshotKeys?.((id) => this.keys.keyOf(id)) ?? []).filter(
        (state) => state.key === key,
      ),
    };
  }

  snapshotKeyBytes(key: string, appliedOffset: number, partition: number): Uint8Array | undefined {
    this.requireKeyStreamTime("snapshotKeyBytes");
    const keyId = this.keys.idOf(key);
    if (keyId === undefined) return undefined;
    const max = this.keyMax[keyId]!;
    const own = max - this.maxOutOfOrdernessMs;
    // One source, key and partition entry per operator, refilled for each key: a checkpoint
    // writes a state for every changed key (100k at 100k sensors), and a spread of the source,
    // an onlyKey object and a partition list each were a third of its cost. The encoder keeps
    // none of them.
    this.keySource ??= {
      ...this.snapshotSource(),
      counts: NO_COUNTS,
      onlyKey: { keyId: 0, watermark: 0, partitions: [] },
    };
    const source = this.keySource;
    source.table = this.table;
    source.keys = this.keys;
    source.placement = this.placement;
    source.nextSeq = this.nextSeq;
    const only = source.onlyKey;
    only.keyId = keyId;
    only.watermark = own;
    if (max === Number.NEGATIVE_INFINITY) only.partitions = NO_PARTITIONS;
    else {
      const entry = this.keyPartitionEntry;
      entry.partition = partition;
      entry.maxEventTime = max;
      entry.watermark = own;
      entry.lastRecordAt = this.now;
      this.keyPartitionList[0] = entry;
      only.partitions = this.keyPartitionList;
    }
    return encodeSnapshotBytes(source, appliedOffset);
  }

  restoreKey(key: string, snapshot: WindowOperatorSnapshot): void {
    this.requireKeyStreamTime("restoreKey");
    checkSnapshot(snapshot, this.config.assigner, this.fields);
    const windows = [...snapshot.windows].sort((a, b) => a.seq - b.seq);
    const keyId = this.internKey(key);
    if (this.table.keyHead[keyId]! >= 0) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "restoreKey: the key already has open windows", {
        details: { key },
      });
    }
    for (const window of windows) {
      if (window.key !== key) {
        throw new PlatformError(ErrorCodes.DECODE_FAILED, "restoreKey: a window of another key", {
          details: { keys: [key, window.key] },
        });
      }
      // fresh seqs in the key's order: seqs of operators that each owned one key collide
      const slot = this.open(keyId, window.start, window.end);
      this.table.restoreWindowState(slot, window.state);
    }
    for (const state of snapshot.keyStates) if (state.key === key) this.placement.restoreKey?.(keyId, state);
    // the key's own stream time, as its operator saw it: its records' max, or the watermark
    // it had been lifted to if that is later
    let max =
      snapshot.watermark === null ? Number.NEGATIVE_INFINITY : snapshot.watermark + this.maxOutOfOrdernessMs;
    for (const partition of snapshot.partitions) {
      max = Math.max(max, partition.maxEventTime);
      this.keyPartition[keyId] = partition.partition;
    }
    this.keyMax[keyId] = Math.max(this.keyMax[keyId]!, max);
  }

  restoreKeyBytes(key: string, bytes: Uint8Array): number {
    this.requireKeyStreamTime("restoreKeyBytes");
    const known = this.keys.idOf(key);
    if (known !== undefined && this.table.keyHead[known]! >= 0) {
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        "restoreKeyBytes: the key already has open windows",
        {
          details: { key },
        },
      );
    }
    // interned on the first window: bytes that fail their checks leave no trace of the key
    let keyId = known ?? -1;
    const idOf = () => {
      if (keyId < 0) keyId = this.internKey(key);
      return keyId;
    };
    const restored = readKeySnapshotBytes(bytes, key, {
      config: this.config,
      fields: this.fields,
      table: this.table,
      open: (start, end) => this.open(idOf(), start, end),
      restoreKeyState: (state) => this.placement.restoreKey?.(idOf(), state),
    });
    const id = idOf();
    // as `restoreKey` reads its own operator's snapshot: the watermark, then each partition's
    // max event time (the last record of a partition named twice wins, as a restore keeps it)
    let max =
      restored.watermark === Number.NEGATIVE_INFINITY
        ? Number.NEGATIVE_INFINITY
        : restored.watermark + this.maxOutOfOrdernessMs;
    const maxByPartition = new Map<number, number>();
    for (const partition of restored.partitions)
      maxByPartition.set(partition.partition, partition.maxEventTime);
    let lastPartition: number | undefined;
    for (const [partition, maxEventTime] of maxByPartition) {
      max = Math.max(max, maxEventTime);
      if (lastPartition === undefined || partition > lastPartition) lastPartition = partition;
    }
    if (lastPartition !== undefined) this.keyPartition[id] = lastPartition;
    this.keyMax[id] = Math.max(this.keyMax[id]!, max);
    return restored.appliedOffset;
  }

  stats(): WindowOperatorStats {
    const watermark = this.watermarks.current;
    return {
      openWindows: this.table.live,
      keys: this.keys.size,
      ...this.counts,
      watermark: watermark === Number.NEGATIVE_INFINITY ? null : watermark,
      partitions: this.watermarks.partitions(),
    };
  }

  // PlacementContext

  watermark(): number {
    return this.keyStreamTime ? this.placingWatermark : this.watermarks.current;
  }

  open(keyId: number, start: number, end: number): number {
    const seq = this.nextSeq++;
    const slot = this.table.allocate(keyId, start, end, seq);
    this.queue.push(end + this.graceMs, seq, slot, this.table.generationOf(slot));
    return slot;
  }

  touch(slot: number): void {
    if (!this.onUpdate) return;
    if (this.updates !== undefined) {
      this.updates.hold(slot, this.table.generationOf(slot));
      return;
    }
    for (let i = 0; i < this.touchedCount; i++) if (this.touched[i] === slot) return;
    if (this.touchedCount === this.touched.length) {
      const grown = new Int32Array(this.touched.length * 2);
      grown.set(this.touched);
      this.touched = grown;
    }
    this.touched[this.touchedCount++] = slot;
  }

  // internals

  private closeReady(out: WindowOutput): void {
    this.closeUpTo(this.watermarks.current, out);
  }

  /** Pops every window whose close time is <= `limit`, emitting each once with final: true. */
  private closeUpTo(limit: number, out: WindowOutput): void {
    const queue = this.queue;
    const table = this.table;
    while (queue.size > 0 && queue.peekCloseAt() <= limit) {
      const slot = queue.peekSlot();
      const generation = queue.peekGeneration();
      const queuedAt = queue.peekCloseAt();
      const seq = table.seqOf(slot);
      queue.pop();
      if (table.generationOf(slot) !== generation) continue; // merged away or closed before
      const closeAt = this.closeAtOf(slot);
      if (closeAt !== queuedAt) {
        queue.push(closeAt, seq, slot, generation); // a session that grew since it was queued
        continue;
      }
      this.emit(slot, true, out);
      const keyId = table.keyIdOf(slot);
      this.updates?.release(slot);
      table.release(slot);
      this.placement.onClose?.(keyId);
      // per-key stream time: the operator watermark that closed one of the key's windows is
      // now the key's too, as it was for an operator of the key's own, which the node woke
      // with the watermark exactly then (and only then: a key with no window to close keeps
      // its own time, so a partition the watermark ran ahead of does not make it late)
      if (this.keyStreamTime && limit !== Number.POSITIVE_INFINITY)
        this.keyMax[keyId] = Math.max(this.keyMax[keyId]!, limit + this.maxOutOfOrdernessMs);
    }
  }

  /**
   * Closes the windows of one key whose close time its own stream time `limit` passed, in
   * (closeAt, seq) order as the queue would; their queue entries go stale (the generation moves).
   */
  private closeKey(keyId: number, limit: number, out: WindowOutput): void {
    const table = this.table;
    let ready = this.ready ?? new Int32Array(8);
    let count = 0;
    for (let slot = table.keyHead[keyId]!; slot >= 0; slot = table.nextOf(slot)) {
      if (this.closeAtOf(slot) > limit) continue;
      if (count === ready.length) {
        const grown = new Int32Array(count * 2);
        grown.set(ready);
        ready = grown;
      }
      // insertion by (closeAt, seq): a key has a handful of open windows
      let i = count++;
      while (i > 0 && this.closesBefore(slot, ready[i - 1]!)) {
        ready[i] = ready[i - 1]!;
        i--;
      }
      ready[i] = slot;
    }
    this.ready = ready;
    for (let i = 0; i < count; i++) {
      const slot = ready[i]!;
      this.emit(slot, true, out);
      this.updates?.release(slot);
      table.release(slot);
      this.placement.onClose?.(keyId);
    }
  }

  private closesBefore(a: number, b: number): boolean {
    const closeA = this.closeAtOf(a);
    const closeB = this.closeAtOf(b);
    return closeA < closeB || (closeA === closeB && this.table.seqOf(a) < this.table.seqOf(b));
  }

  private requireKeyStreamTime(what: string): void {
    if (!this.keyStreamTime) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${what} needs watermark.streamTime "key"`);
    }
  }

  private closeAtOf(slot: number): number {
    return this.table.endOf(slot) + this.graceMs;
  }

  private emit(slot: number, final: boolean, out: WindowOutput): void {
    const table = this.table;
    const keyId = table.keyIdOf(slot);
    this.counts.emitted++;
    out.emittedKeyIds.push(keyId);
    out.emitted.push({
      key: this.keys.keyOf(keyId),
      windowStart: table.startOf(slot),
      windowEnd: table.endOf(slot),
      aggregates: table.aggregates(slot),
      count: table.countOf(slot),
      final,
      emittedAt: final ? this.clock() : this.now,
    });
  }

  private reject(
    out: WindowOutput,
    partition: number,
    key: string,
    eventTime: number,
    values: Readonly<Record<string, number>> | Float64Array,
    reason: WindowOutput["rejected"][number]["reason"],
    field: string | undefined,
  ): void {
    this.counts.rejected++;
    const record = valuesRecord(this.fields, values);
    out.rejected.push(
      field === undefined
        ? { partition, key, eventTime, reason, values: record }
        : { partition, key, eventTime, reason, field, values: record },
    );
  }

  /** time windows close on a shared grid: a bucket per close time; sessions and sliding: a heap */
  private createQueue(): CloseQueue | AlignedCloseQueue {
    const kind = this.config.assigner.kind;
    return kind === "tumbling" || kind === "hopping"
      ? new AlignedCloseQueue()
      : new CloseQueue(this.config.initialCapacity);
  }

  private createPlacement(): RecordPlacement {
    const assigner = this.config.assigner;
    switch (assigner.kind) {
      case "tumbling":
        return new TimeWindowPlacement(this, assigner.sizeMs, assigner.sizeMs, assigner.offsetMs);
      case "hopping":
        return new TimeWindowPlacement(this, assigner.sizeMs, assigner.advanceMs, assigner.offsetMs);
      case "session":
        return new SessionPlacement(this, assigner.gapMs);
      case "sliding":
        return new SlidingPlacement(this, assigner.timeDifferenceMs, this.fields.length);
    }
  }
}

function checkSnapshot(
  snapshot: WindowOperatorSnapshot,
  assigner: WindowAssigner,
  fields: readonly string[],
) {
  if (snapshot?.version !== 1 || !Array.isArray(snapshot.windows) || !Array.isArray(snapshot.keyStates)) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "not a version 1 window operator snapshot");
  }
  if (
    JSON.stringify(snapshot.assigner) !== JSON.stringify(assigner) ||
    JSON.stringify(snapshot.fields) !== JSON.stringify(fields)
  ) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "snapshot was taken with another assigner or field list",
      {
        details: { snapshot: { assigner: snapshot.assigner, fields: snapshot.fields } },
      },
    );
  }
}

function checkPartition(partition: number): void {
  if (!(partition >= 0 && partition <= MAX_PARTITION && Number.isInteger(partition))) {
    throw new PlatformError(ErrorCodes.LOG_PARTITION_INVALID, "partition must be an integer in [0, 65535]", {
      details: { partition },
    });
  }
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${name} must be >= 0`, {
      details: { [name]: value },
    });
  }
  return value;
}
