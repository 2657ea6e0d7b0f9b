import type { SensorType } from "../../messages/sensor-reading.ts";
import type { FieldAggregates, WindowResult } from "../../messages/window-result.ts";
import type { NodeConfig } from "../../node/config.ts";
import type { WindowResult as OperatorResult } from "../../stream/index.ts";
import {
  clearWindowOutput,
  hopping,
  session,
  sliding,
  tumbling,
  type WindowAssigner,
  type WindowOutput,
} from "../../stream/index.ts";
import type { WindowSink } from "./window.ts";

/**
 * What the window actors' operators share, whatever form they take: event-time windows (tumbling
 * by default; hopping, sliding or session by configuration) keyed by sensor, count / sum / mean /
 * min / max per measurement, emitted on update (the latest state of each changed window once per
 * burst of readings, through the operator's record cache) and once more, final, when the
 * watermark passes the window's end plus the grace. The node runs the per-partition form
 * (partition-windows.ts); the per-sensor form, one operator per sensor, is the conformance
 * reference in testkit/sensor-windows.ts.
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
  /**
   * The most windows whose updates the cache holds (per window actor); past it the oldest go
   * out early (Kafka Streams' eviction). Default unbounded: flushed per burst, it holds at most
   * a burst's windows; a host that flushes at the checkpoint sets it (WindowUpdateFlush).
   */
  readonly cacheMaxEntries?: number;
}

export const STATISTICS = ["count", "sum", "mean", "min", "max"] as const;

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
