import type { HostOutput, HotReading } from "../../messages/host-protocol.ts";
import type { SensorType } from "../../messages/sensor-reading.ts";
import type { Props } from "../../supervisor/actor.ts";
import type { PartitionWindows, PartitionWindowsSnapshot, SensorWindowState } from "./partition-windows.ts";
import type { WindowSink } from "./window-sink.ts";

/**
 * window/<type>:<partition>: the event-time windows of every sensor of one type on one
 * partition, in one window operator (partition-windows.ts: keys as interned ids, state in typed
 * arrays). Readings arrive from the sensors' actors: each sensor's in its log order, different
 * sensors' in whatever order the scheduler ran their actors. That is why each sensor keeps its
 * own stream time in the operator (once, one window actor per sensor gave the same guarantee at
 * ~11 KB and an actor per sensor): a sensor's readings are judged late only against its own
 * event time and the node's event-time watermark (the `watermark` message), which the partition
 * host sends after every reading before it has been applied, so a sensor that goes silent still
 * has its last window closed once the other sensors' event time passes its end plus grace. The
 * actor tells the partition host when its earliest open window may close (`onNextClose`), so the
 * host wakes it only when something may close (Flink's event-time timer service).
 *
 * Updates go to the live feeds; a window's final result goes to `city.processed.<type>`. Late
 * readings are published, never dropped. On a checkpoint the actor publishes the state of every
 * sensor that changed since the last one, one changelog entry per sensor
 * (`<type>:<partition>:<sensor>`), and a restore hands those entries back one sensor at a time
 * (`restored`); a replayed reading at or below its sensor's saved offset is skipped.
 */
export type WindowMessage =
  | { readonly type: "reading"; readonly reading: HotReading }
  | { readonly type: "tick" }
  /** the node's event time passed this point: close what ends before it (minus grace) */
  | { readonly type: "watermark"; readonly watermark: number }
  | { readonly type: "flush" }
  | { readonly type: "checkpoint" }
  /** sensors' changelog entries wait for this actor (`takeRestored`) */
  | { readonly type: "restored" }
  | { readonly type: "evict" };

export interface WindowState {
  readonly windows: PartitionWindows;
  /** built on the first message */
  sink: WindowSink | undefined;
  /** the close time last told to `onNextClose`, so it is told again only when it moves */
  reportedCloseAt: number;
}

export interface WindowDeps {
  readonly createWindows: (
    sensorType: SensorType,
    partition: number,
    snapshot?: PartitionWindowsSnapshot,
  ) => PartitionWindows;
  readonly emit: (output: HostOutput) => void;
  readonly now: () => number;
  readonly tickMs: number;
  readonly passivateAfterMs?: number;
  /** the actor's earliest open window may close at `closeAt` (+Infinity: none open) */
  readonly onNextClose?: (key: string, closeAt: number) => void;
  /** the actor passivated with its state published (or nothing to publish) */
  readonly onPassivated?: (key: string) => void;
  /** sensors' changelog entries restored for this actor since it last asked, [sensor, state] */
  readonly takeRestored?: (key: string) => readonly (readonly [string, SensorWindowState])[];
}

/** the window actor of a sensor type on a partition */
export const windowKey = (sensorType: SensorType, partition: number) => `${sensorType}:${partition}`;

/** the changelog key of one sensor's window state */
export const sensorWindowKey = (sensorType: SensorType, partition: number, sensorId: string) =>
  `${sensorType}:${partition}:${sensorId}`;

/** a window actor key or a sensor's changelog key, parsed (sensorId "" for an actor key) */
export function parseWindowKey(key: string): { sensorType: SensorType; partition: number; sensorId: string } {
  const first = key.indexOf(":");
  const second = key.indexOf(":", first + 1);
  return {
    sensorType: key.slice(0, first) as SensorType,
    partition: Number(second < 0 ? key.slice(first + 1) : key.slice(first + 1, second)),
    sensorId: second < 0 ? "" : key.slice(second + 1),
  };
}

export function windowProps(deps: WindowDeps): Props<WindowMessage, WindowState> {
  const publish = (key: string, state: WindowState) => {
    const { sensorType, partition } = parseWindowKey(key);
    for (const [sensorId, sensorState] of state.windows.takeChanged())
      deps.emit({
        type: "state",
        kind: "window",
        key: sensorWindowKey(sensorType, partition, sensorId),
        partition,
        state: sensorState,
      });
  };
  const takeRestored = (key: string, windows: PartitionWindows) => {
    for (const [sensorId, state] of deps.takeRestored?.(key) ?? []) windows.restore(sensorId, state);
  };
  return {
    kind: "window",
    mailbox: { capacity: 65_536, overflow: "backpressure" },
    ...(deps.passivateAfterMs === undefined ? {} : { passivateAfterMs: deps.passivateAfterMs }),
    toSnapshot: (state) => state.windows.snapshot(),
    initialState: (key, snapshot) => {
      const { sensorType, partition } = parseWindowKey(key);
      const windows = deps.createWindows(
        sensorType,
        partition,
        snapshot as PartitionWindowsSnapshot | undefined,
      );
      takeRestored(key, windows);
      return { windows, sink: undefined, reportedCloseAt: Number.NaN };
    },
    onSignal(ctx, signal) {
      // The tick is housekeeping (idle partitions in processing time): it must not keep an idle
      // window actor alive. One with an open window passivates too; the node's watermark wakes
      // it when the window may close (the partition host's event-time timers).
      if (signal.type === "started" || signal.type === "restarted")
        ctx.startTimer("tick", deps.tickMs, { type: "tick" }, { repeat: true, keepsAlive: false });
      else if (signal.type === "passivating") {
        publish(ctx.key, ctx.state);
        deps.onPassivated?.(ctx.key);
      }
    },
    receive(ctx, message) {
      const state = ctx.state;
      state.sink ??= windowSink(deps);
      const sink = state.sink;
      switch (message.type) {
        case "reading":
          state.windows.add(message.reading, sink);
          break;
        case "tick":
          state.windows.advance(deps.now(), sink);
          break;
        case "watermark":
          state.windows.advanceTo(message.watermark, sink);
          break;
        case "flush":
          state.windows.flush(sink);
          break;
        case "restored":
          takeRestored(ctx.key, state.windows);
          break;
        case "evict":
          ctx.stop();
          return;
        case "checkpoint":
          publish(ctx.key, state);
          return;
      }
      const closeAt = state.windows.nextCloseAt();
      if (closeAt !== state.reportedCloseAt) {
        state.reportedCloseAt = closeAt;
        deps.onNextClose?.(ctx.key, closeAt);
      }
    },
  };
}

function windowSink(deps: WindowDeps): WindowSink {
  return {
    window(result, ingestedAt) {
      deps.emit({ type: "window", window: result, ingestedAt });
    },
    late(record) {
      deps.emit({ type: "late", late: record });
    },
  };
}
