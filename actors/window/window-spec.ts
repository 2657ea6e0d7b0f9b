import type { SensorType } from "../../messages/sensor-reading.ts";
import type { FieldAggregates, WindowResult } from "../../messages/window-result.ts";
import type { NodeConfig } from "../../node/config.ts";
import {
  hopping,
  type WindowResult as OperatorResult,
  session,
  sliding,
  tumbling,
  type WindowAssigner,
} from "../../stream/index.ts";

/**
 * The sensor windows' configuration, shared by the partition's window operator and the
 * per-sensor one: which windows (plain data: it crosses to the workers), the watermark and
 * grace, and the statistics every measurement gets (count, sum, mean, min, max).
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

export interface WindowOptions {
  readonly window: WindowSpec;
  readonly graceMs: number;
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
  readonly clock: () => number;
}

/** the statistics of every measurement, in the message's order */
export const STATISTICS = ["count", "sum", "mean", "min", "max"] as const;

/** an operator result as the platform's window message */
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
