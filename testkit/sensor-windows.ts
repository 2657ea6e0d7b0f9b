import {
  assignerOf,
  type SensorWindowsOptions,
  STATISTICS,
  sendLateAndRejected,
  toWindowResult,
} from "../actors/window/sensor-windows.ts";
import type { WindowSink } from "../actors/window/window.ts";
import type { HotReading } from "../messages/host-protocol.ts";
import { MEASUREMENTS, type SensorType } from "../messages/sensor-reading.ts";
import {
  createWindowOperator,
  createWindowOutput,
  type WindowOperator,
  type WindowOperatorSnapshot,
  type WindowOutput,
} from "../stream/index.ts";

/**
 * The per-sensor form of the window actors' windows: one window operator per sensor, as the node
 * ran them before one operator per (type, partition) took over (actors/window/partition-windows.ts).
 * The node no longer runs it; it stays as the conformance reference the partition form is held
 * to (same updates, finals, late readings and changelog bytes per sensor), and it writes the
 * per-sensor states that the restore tests and benchmarks start from (window-actor-states.ts).
 */
export interface SensorWindows {
  add(reading: HotReading, out: WindowSink): void;
  /** processing time moved: idle streams stop holding event time, windows may close */
  advance(now: number, out: WindowSink): void;
  /**
   * whether `advance` can ever close a window; false: only readings and `advanceTo` do, and the
   * actor runs no tick (at 100k sensors the ticks were 100k messages a second doing nothing)
   */
  closesInProcessingTime(): boolean;
  /** event time reached `watermark` (the node's, across partitions): windows may close */
  advanceTo(watermark: number, out: WindowSink): void;
  /** the earliest close time of an open window (end + grace); +Infinity when none is open */
  nextCloseAt(): number;
  /** close every open window (shutdown, hand-off) */
  flush(out: WindowSink): void;
  /** whether updates wait in a record cache for `emitUpdates` (false: `add` emits them) */
  hasCachedUpdates(): boolean;
  /** emit the latest update of each window changed since the last call (the record cache) */
  emitUpdates(out: WindowSink): void;
  /** plain data that `createWindows(..., snapshot)` turns back into the same open windows */
  snapshot(): unknown;
  /** the same as bytes (what `createWindows` also takes), with the actor's applied offset inside */
  snapshotBytes(appliedOffset: number): Uint8Array;
}

export function sensorWindowsFactory(options: SensorWindowsOptions) {
  const cacheUpdates = options.cacheUpdates ?? true;
  // shared by every sensor's operator: one assigner, one aggregator spec per sensor type
  const assigner = assignerOf(options.window);
  const aggregatorsOf = new Map<SensorType, Record<string, typeof STATISTICS>>();
  // One output buffer for every sensor's operator: each call fills it and drains it before it
  // returns, and a sink never calls back into window operators synchronously (it emits to the
  // host or tells an actor), so no two calls use it at once. One per actor was 100k objects and
  // 300k arrays at 100k sensors.
  const out = createWindowOutput();
  return (sensorType: SensorType, partition: number, snapshot?: unknown): SensorWindows => {
    let aggregators = aggregatorsOf.get(sensorType);
    if (aggregators === undefined) {
      aggregators = Object.fromEntries(MEASUREMENTS[sensorType].map((field) => [field, STATISTICS]));
      aggregatorsOf.set(sensorType, aggregators);
    }
    const operator = createWindowOperator({
      assigner,
      aggregators,
      watermark: { maxOutOfOrdernessMs: options.maxOutOfOrdernessMs, idleTimeoutMs: options.idleTimeoutMs },
      graceMs: options.graceMs,
      emit: "on-update",
      cacheUpdates,
      // one sensor's windows: a handful open at a time (the operator grows if it needs more)
      initialCapacity: 8,
      clock: options.clock,
    });
    if (snapshot !== undefined) operator.restore(snapshot as WindowOperatorSnapshot | Uint8Array);
    return new OneSensorWindows(operator, out, sensorType, partition, cacheUpdates);
  };
}

/**
 * A class, not an object of closures: there is one per window actor (100k at 100k sensors), and
 * its methods on the prototype are shared instead of eleven functions each.
 */
class OneSensorWindows implements SensorWindows {
  private readonly stream: string;
  private lastIngestedAt = 0;
  /** a reading went in since the last emitUpdates (it may have changed no window: late) */
  private held = false;

  constructor(
    private readonly operator: WindowOperator,
    /** shared by the factory's operators (see sensorWindowsFactory) */
    private readonly out: WindowOutput,
    private readonly sensorType: SensorType,
    partition: number,
    private readonly cacheUpdates: boolean,
  ) {
    this.stream = `${sensorType}:${partition}`;
  }

  snapshot(): unknown {
    return this.operator.snapshot();
  }

  snapshotBytes(appliedOffset: number): Uint8Array {
    return this.operator.snapshotBytes(appliedOffset);
  }

  add(reading: HotReading, sink: WindowSink): void {
    this.lastIngestedAt = reading.ingestedAt;
    this.operator.process(reading.partition, reading.sensorId, reading.eventTime, reading.values, this.out);
    this.held = this.cacheUpdates;
    this.drain(sink, reading.offset);
  }

  hasCachedUpdates(): boolean {
    return this.held;
  }

  emitUpdates(sink: WindowSink): void {
    this.held = false;
    this.operator.flushUpdates(this.out);
    this.drain(sink, -1);
  }

  advance(now: number, sink: WindowSink): void {
    this.operator.advanceProcessingTime(now, this.out);
    this.drain(sink, -1);
  }

  advanceTo(watermark: number, sink: WindowSink): void {
    this.operator.advanceWatermark(watermark, this.out);
    this.drain(sink, -1);
  }

  // Event time from one partition (the actor's key names it): a partition's idleness only
  // matters against other partitions, and a lone idle one keeps its own watermark, so
  // processing time never closes anything here; the node's watermark (`advanceTo`) does.
  closesInProcessingTime(): boolean {
    return false;
  }

  nextCloseAt(): number {
    return this.operator.nextCloseAt();
  }

  flush(sink: WindowSink): void {
    this.operator.flush(this.out);
    this.drain(sink, -1);
  }

  /** `offset`: the log position of the reading that caused the output, -1 for timer work */
  private drain(sink: WindowSink, offset: number): void {
    const o = this.out;
    for (const result of o.emitted) sink.window(toWindowResult(this.sensorType, result), this.lastIngestedAt);
    sendLateAndRejected(o, sink, this.stream, offset);
  }
}
