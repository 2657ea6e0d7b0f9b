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

export { type WindowSpec, windowSpecOf } from "./window-spec.ts";

/**
 * One sensor's windows in an operator of its own: what the node ran before one operator per
 * partition took every sensor's windows (partition-windows.ts), kept as the reference that
 * operator is checked against (test/actors/window/partition-windows.test.ts).
 */
export interface SensorWindows {
  add(reading: HotReading, out: WindowSink): void;
  /** processing time moved: idle streams stop holding event time, windows may close */
  advance(now: number, out: WindowSink): void;
  /** event time reached `watermark` (the node's, across partitions): windows may close */
  advanceTo(watermark: number, out: WindowSink): void;
  /** the earliest close time of an open window (end + grace); +Infinity when none is open */
  nextCloseAt(): number;
  /** close every open window (shutdown, hand-off) */
  flush(out: WindowSink): void;
  /** plain data that `createWindows(..., snapshot)` turns back into the same open windows */
  snapshot(): unknown;
}

export function sensorWindowsFactory(options: WindowOptions) {
  return (sensorType: SensorType, partition: number, snapshot?: unknown): SensorWindows => {
    const fields = MEASUREMENTS[sensorType];
    const operator = createWindowOperator({
      assigner: assignerOf(options.window),
      aggregators: Object.fromEntries(fields.map((field) => [field, STATISTICS])),
      watermark: { maxOutOfOrdernessMs: options.maxOutOfOrdernessMs, idleTimeoutMs: options.idleTimeoutMs },
      graceMs: options.graceMs,
      emit: "on-update",
      // one sensor's windows: a handful open at a time (the operator grows if it needs more)
      initialCapacity: 8,
      clock: options.clock,
    });
    if (snapshot !== undefined) operator.restore(snapshot as WindowOperatorSnapshot);
    const out = createWindowOutput();
    const stream = `${sensorType}:${partition}`;
    let lastIngestedAt = 0;

    /** `offset`: the log position of the reading that caused the output, -1 for timer work */
    const drain = (sink: WindowSink, o: WindowOutput, offset: number) => {
      for (const result of o.emitted) sink.window(toWindowResult(sensorType, result), lastIngestedAt);
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
    };

    return {
      snapshot: () => operator.snapshot(),
      add(reading: HotReading, sink: WindowSink) {
        lastIngestedAt = reading.ingestedAt;
        operator.process(reading.partition, reading.sensorId, reading.eventTime, reading.values, out);
        drain(sink, out, reading.offset);
      },
      advance(now: number, sink: WindowSink) {
        operator.advanceProcessingTime(now, out);
        drain(sink, out, -1);
      },
      advanceTo(watermark: number, sink: WindowSink) {
        operator.advanceWatermark(watermark, out);
        drain(sink, out, -1);
      },
      nextCloseAt: () => operator.nextCloseAt(),
      flush(sink: WindowSink) {
        operator.flush(out);
        drain(sink, out, -1);
      },
    };
  };
}
