import type { HotReading } from "../../messages/host-protocol.ts";
import { MEASUREMENTS, type SensorType } from "../../messages/sensor-reading.ts";
import {
  clearWindowOutput,
  createWindowOperator,
  createWindowOutput,
  type WindowOperatorSnapshot,
  type WindowOutput,
} from "../../stream/index.ts";
import type { WindowSink } from "./window-sink.ts";
import { assignerOf, STATISTICS, toWindowResult, type WindowOptions } from "./window-spec.ts";

/**
 * The windows of every sensor of one type on one partition, in one window operator: keys
 * interned to ids, open windows as rows of typed arrays, one close queue (issue 7 §4: the
 * per-sensor operators cost ~11 KB and an actor each, and most of the window path's time at
 * 100k sensors). Each sensor keeps its own stream time (the operator's per-key stream time),
 * so a sensor's readings are judged exactly as its own operator judged them, in whatever order
 * the sensor actors deliver different sensors' readings; the node's watermark lifts them all.
 *
 * State stays per sensor where it is durable: a sensor's changelog entry is
 * `{ windows, lastOffset }` under `<type>:<partition>:<sensor>`, the form the per-sensor window
 * actors wrote, so their changelogs restore here unchanged. `lastOffset` is the last reading of
 * the sensor applied; a replayed reading at or below it is skipped (exactly-once counting
 * across a restore).
 */
export interface PartitionWindows {
  /** applies a reading; false when it was applied before (a replay after a restore) */
  add(reading: HotReading, out: WindowSink): boolean;
  /** processing time moved */
  advance(now: number, out: WindowSink): void;
  /** the node's event time reached `watermark`: windows of every sensor may close */
  advanceTo(watermark: number, out: WindowSink): void;
  /** the earliest close time of an open window (end + grace); +Infinity when none is open */
  nextCloseAt(): number;
  /** closes every open window (shutdown, hand-off) */
  flush(out: WindowSink): void;
  /** a sensor's changelog entry; ignored for a sensor this partition already holds state of */
  restore(sensorId: string, state: SensorWindowState): void;
  /** sensors whose state changed since the last call, with that state (for the changelog) */
  takeChanged(): [sensorId: string, state: SensorWindowState][];
  readonly changed: number;
  /** the whole partition as plain data (passivation); `createWindows(..., snapshot)` takes it back */
  snapshot(): PartitionWindowsSnapshot;
}

/** one sensor's window state, as the changelog holds it */
export interface SensorWindowState {
  readonly windows: WindowOperatorSnapshot;
  readonly lastOffset: number;
}

export interface PartitionWindowsSnapshot {
  readonly windows: WindowOperatorSnapshot;
  /** [sensor, last offset applied] */
  readonly lastOffsets: readonly (readonly [string, number])[];
  /** sensors changed since their state was last published */
  readonly changed: readonly string[];
}

export function partitionWindowsFactory(options: WindowOptions) {
  return (sensorType: SensorType, partition: number, snapshot?: PartitionWindowsSnapshot): PartitionWindows =>
    new OnePartitionWindows(options, sensorType, partition, snapshot);
}

class OnePartitionWindows implements PartitionWindows {
  private readonly operator;
  private readonly out: WindowOutput = createWindowOutput();
  private readonly sensorType: SensorType;
  private readonly stream: string;
  /** per key id: the offset of the sensor's last reading applied, -1 before any */
  private lastOffsets = new Float64Array(64).fill(-1);
  /** per key id: 1 while its state changed since it was last published */
  private changedFlags = new Uint8Array(64);
  private changedIds: number[] = [];
  private lastIngestedAt = 0;

  constructor(
    options: WindowOptions,
    sensorType: SensorType,
    partition: number,
    snapshot: PartitionWindowsSnapshot | undefined,
  ) {
    this.sensorType = sensorType;
    this.stream = `${sensorType}:${partition}`;
    this.operator = createWindowOperator({
      assigner: assignerOf(options.window),
      aggregators: Object.fromEntries(MEASUREMENTS[sensorType].map((field) => [field, STATISTICS])),
      watermark: {
        maxOutOfOrdernessMs: options.maxOutOfOrdernessMs,
        idleTimeoutMs: options.idleTimeoutMs,
        streamTime: "key",
      },
      graceMs: options.graceMs,
      emit: "on-update",
      clock: options.clock,
    });
    if (snapshot !== undefined) {
      this.operator.restore(snapshot.windows);
      for (const [sensorId, offset] of snapshot.lastOffsets) this.lastOffsets[this.idOf(sensorId)] = offset;
      for (const sensorId of snapshot.changed) this.markChanged(this.idOf(sensorId));
    }
  }

  get changed(): number {
    return this.changedIds.length;
  }

  add(reading: HotReading, sink: WindowSink): boolean {
    const keyId = this.idOf(reading.sensorId);
    if (reading.offset <= this.lastOffsets[keyId]!) return false;
    this.lastOffsets[keyId] = reading.offset;
    this.markChanged(keyId);
    this.lastIngestedAt = reading.ingestedAt;
    this.operator.processInterned(reading.partition, keyId, reading.eventTime, reading.values, this.out);
    this.drain(sink, reading.offset);
    return true;
  }

  advance(now: number, sink: WindowSink): void {
    this.operator.advanceProcessingTime(now, this.out);
    this.drain(sink, -1);
  }

  advanceTo(watermark: number, sink: WindowSink): void {
    this.operator.advanceWatermark(watermark, this.out);
    this.drain(sink, -1);
  }

  nextCloseAt(): number {
    return this.operator.nextCloseAt();
  }

  flush(sink: WindowSink): void {
    this.operator.flush(this.out);
    this.drain(sink, -1);
  }

  restore(sensorId: string, state: SensorWindowState): void {
    // live state is never older than the changelog (the changelog is written from it)
    if (this.operator.snapshotKey(sensorId) !== undefined) return;
    this.operator.restoreKey(sensorId, state.windows);
    this.lastOffsets[this.idOf(sensorId)] = state.lastOffset;
  }

  takeChanged(): [string, SensorWindowState][] {
    const states: [string, SensorWindowState][] = [];
    for (const keyId of this.changedIds) {
      this.changedFlags[keyId] = 0;
      const sensorId = this.operator.keyOf(keyId);
      const windows = this.operator.snapshotKey(sensorId);
      if (windows !== undefined) states.push([sensorId, { windows, lastOffset: this.lastOffsets[keyId]! }]);
    }
    this.changedIds = [];
    return states;
  }

  snapshot(): PartitionWindowsSnapshot {
    const lastOffsets: [string, number][] = [];
    for (let keyId = 0; keyId < this.operator.stats().keys; keyId++) {
      const offset = this.lastOffsets[keyId]!;
      if (offset >= 0) lastOffsets.push([this.operator.keyOf(keyId), offset]);
    }
    return {
      windows: this.operator.snapshot(),
      lastOffsets,
      changed: this.changedIds.map((keyId) => this.operator.keyOf(keyId)),
    };
  }

  private idOf(sensorId: string): number {
    const keyId = this.operator.internKey(sensorId);
    if (keyId >= this.lastOffsets.length) {
      const offsets = new Float64Array(Math.max(keyId + 1, this.lastOffsets.length * 2)).fill(-1);
      offsets.set(this.lastOffsets);
      this.lastOffsets = offsets;
      const flags = new Uint8Array(offsets.length);
      flags.set(this.changedFlags);
      this.changedFlags = flags;
    }
    return keyId;
  }

  private markChanged(keyId: number): void {
    if (this.changedFlags[keyId] === 1) return;
    this.changedFlags[keyId] = 1;
    this.changedIds.push(keyId);
  }

  /** `offset`: the log position of the reading that caused the output, -1 for timer work */
  private drain(sink: WindowSink, offset: number): void {
    const o = this.out;
    for (const result of o.emitted) {
      // a closed window leaves its sensor's state: the changelog must learn it
      if (result.final) this.markChanged(this.idOf(result.key));
      sink.window(toWindowResult(this.sensorType, result), this.lastIngestedAt);
    }
    for (const late of o.late)
      sink.late({
        stream: this.stream,
        key: late.key,
        event_time: late.eventTime,
        reason: `${late.reason} (watermark ${late.watermark})`,
        partition: late.partition,
        offset,
      });
    for (const rejected of o.rejected)
      sink.late({
        stream: this.stream,
        key: rejected.key,
        event_time: rejected.eventTime,
        reason: `rejected: ${rejected.reason}${rejected.field ? ` (${rejected.field})` : ""}`,
        partition: rejected.partition,
        offset,
      });
    clearWindowOutput(o);
  }
}
