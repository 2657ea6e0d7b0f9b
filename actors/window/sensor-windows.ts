import type { HotReading } from "../../messages/host-protocol.ts";
import { MEASUREMENTS, type SensorType } from "../../messages/sensor-reading.ts";
import type { FieldAggregates, WindowResult } from "../../messages/window-result.ts";
import type { NodeConfig } from "../../node/config.ts";
import type { WindowResult as OperatorResult } from "../../stream/index.ts";
import {
  clearWindowOutput,
  createWindowOperator,
  createWindowOutput,
  hopping,
  session,
  sliding,
  tumbling,
  type WindowAssigner,
  type WindowOperator,
  type WindowOperatorSnapshot,
  type WindowOutput,
} from "../../stream/index.ts";
import type { SensorWindows, WindowSink } from "./window.ts";

/**
 * The window actor's operator for one sensor type on one partition: event-time windows (tumbling
 * by default; hopping, sliding or session by configuration) keyed by sensor, count / sum / mean / min / max per measurement, emitted on
 * update (the latest state of each changed window once per burst of readings, through the
 * operator's record cache) and once more, final, when the watermark passes the window's end plus the grace.
 */
/** which windows, as plain data (it crosses to the workers) */
export type WindowSpec =
  | { readonly kind: "tumbling"; readonly sizeMs: number }
  | { readonly kind: "hopping"; readonly sizeMs: number; readonly advanceMs: number }
  | { readonly kind: "sliding"; readonly sizeMs: number }
  | { readonly kind: "session"; readonly sizeMs: number; readonly gapMs: number };

/** the windows the node's configuration asks for */
export function windowSpecOf(
  config: Pick<NodeConfig, "windowKind" | "windowMs" | "windowAdvanceMs" | "sessionGapMs">,
): WindowSpec {
  switch (config.windowKind) {
    case "tumbling":
    case "sliding":
      return { kind: config.windowKind, sizeMs: config.windowMs };
    case "hopping":
      return { kind: "hopping", sizeMs: config.windowMs, advanceMs: config.windowAdvanceMs };
    case "session":
      return { kind: "session", sizeMs: config.windowMs, gapMs: config.sessionGapMs };
  }
}

export function assignerOf(spec: WindowSpec): WindowAssigner {
  switch (spec.kind) {
    case "tumbling":
      return tumbling(spec.sizeMs);
    case "hopping":
      return hopping(spec.sizeMs, spec.advanceMs);
    case "sliding":
      return sliding(spec.sizeMs);
    case "session":
      return session(spec.gapMs);
  }
}

export interface SensorWindowsOptions {
  readonly window: WindowSpec;
  readonly graceMs: number;
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
  readonly clock: () => number;
  /**
   * Updates through the operator's record cache, emitted once per window at the window actor's
   * `emit-updates` (the end of its burst of readings); default true. False: every reading emits
   * its windows' updates.
   */
  readonly cacheUpdates?: boolean;
}

export const STATISTICS = ["count", "sum", "mean", "min", "max"] as const;

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

/**
 * The operator's late and refused readings to the sink's late stream (`offset`: the reading that
 * caused them, -1 for timer work), then the output emptied for the next call: both window forms.
 */
export function sendLateAndRejected(o: WindowOutput, sink: WindowSink, stream: string, offset: number): void {
  for (const late of o.late)
    sink.late({
      stream,
      key: late.key,
      event_time: late.eventTime,
      reason: `${late.reason} (watermark ${late.watermark})`,
      partition: late.partition,
      offset,
    });
  for (const rejected of o.rejected)
    sink.late({
      stream,
      key: rejected.key,
      event_time: rejected.eventTime,
      reason: `rejected: ${rejected.reason}${rejected.field ? ` (${rejected.field})` : ""}`,
      partition: rejected.partition,
      offset,
    });
  clearWindowOutput(o);
}

export function toWindowResult(sensorType: SensorType, result: OperatorResult): WindowResult {
  return {
    scope: "sensor",
    key: result.key,
    type: sensorType,
    window_start: result.windowStart,
    window_end: result.windowEnd,
    count: result.count,
    // the operator computes exactly the message's statistics (STATISTICS, in that order) per
    // field, never null in an emitted window (it has a reading): its objects are used as they
    // are, not copied (a hopping reading emits 6 updates, each copied twice before)
    fields: result.aggregates as Record<string, FieldAggregates>,
    final: result.final,
    emitted_at: result.emittedAt,
  };
}
