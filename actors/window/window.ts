import { isPlatformError } from "../../messages/errors.ts";
import {
  corruptStateReport,
  type HostOutput,
  type HotReading,
  type LateRecord,
} from "../../messages/host-protocol.ts";
import type { SensorType } from "../../messages/sensor-reading.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import type { ActorRef, Props } from "../../supervisor/actor.ts";
import type { ModelShardMessage } from "../model-shard/model-shard.ts";

/**
 * window/<type>:<partition>: the event-time windows of every sensor of one type on one input
 * partition, in one operator (partition-windows.ts): sensors as interned ids, windows as rows of
 * typed arrays, one close queue, instead of an actor and an operator per sensor (issue 7 §4).
 * Its sensors' readings come from their sensor actors, each sensor's in its log order, different
 * sensors' in the order the scheduler ran their actors: each sensor keeps its own stream time,
 * so none is called late because another ran ahead. The node's event-time watermark (the
 * `watermark` message) closes any sensor's windows it passes: a sensor that goes silent still
 * has its last window closed once the partition's event time passes its end plus grace. The
 * actor tells the partition host when its earliest open window may close (`onNextClose`), so
 * the host wakes only the actors that have something to close, passivated ones included
 * (Flink's event-time timer service).
 *
 * Updates go to the live feeds; a window's final result goes to `city.processed.<type>`. Late
 * readings are published, never dropped. State is durable per sensor: on a checkpoint (and when
 * it passivates) the actor publishes the state of each sensor that changed since it last did,
 * under `<type>:<partition>:<sensor>`, with the offset of the sensor's last reading applied; a
 * restore hands each sensor's entry to its partition's actor (`restored`), and a replayed
 * reading at or below its sensor's offset is skipped.
 *
 * Updates go through the operator's record cache (Kafka Streams' KIP-63): the first reading that
 * changes a window queues an `emit-updates` to the actor itself, behind the readings already in
 * its mailbox, so a burst of readings emits each window's latest state once, with no timer and
 * no wait beyond the burst. The cache is emptied before every checkpoint, passivation and
 * eviction, so the state published never runs ahead of the updates.
 *
 * With `flushUpdates: "checkpoint"` (Kafka Streams' own cadence: its cache is flushed at the
 * commit) no `emit-updates` is queued: a window's updates wait for the checkpoint (or the
 * passivation, the eviction, a sensor's publish), bounded by the operator's `cacheMaxEntries`,
 * past which the oldest go out early. The checkpoint mark is answered after the actor handled
 * its `checkpoint`, so every output of the records before the mark is still ahead of it; the
 * cache is volatile, and a crash re-reads from the committed offsets the records whose updates
 * it held, as it does the records whose state it held.
 */

export type WindowMessage =
  | { readonly type: "reading"; readonly reading: HotReading }
  | { readonly type: "tick" }
  /** the node's event time passed this point: close what ends before it (minus grace) */
  | { readonly type: "watermark"; readonly watermark: number }
  | { readonly type: "flush" }
  /** the readings queued before this one are applied: emit the windows' cached updates */
  | { readonly type: "emit-updates" }
  /** sensors' changelog entries wait for this actor (`takeRestored`) */
  | { readonly type: "restored" }
  /** this sensor's actor passivated with its state published: publish its windows' state too */
  | { readonly type: "publish"; readonly sensorId: string }
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" };

/** What the actor needs of its windows: every sensor of a type on a partition (partition-windows.ts). */
export interface PartitionWindows {
  /** applies a reading; false when its sensor applied it before (a replay after a restore) */
  add(reading: HotReading, out: WindowSink): boolean;
  /** processing time moved */
  advance(now: number, out: WindowSink): void;
  /** whether `advance` can ever close a window (false: the actor runs no tick) */
  closesInProcessingTime(): boolean;
  /** the node's event time reached `watermark`: windows of every sensor may close */
  advanceTo(watermark: number, out: WindowSink): void;
  /** the earliest close time of an open window (end + grace); +Infinity when none is open */
  nextCloseAt(): number;
  /** closes every open window (shutdown, hand-off) */
  flush(out: WindowSink): void;
  /** whether updates wait in a record cache for `emitUpdates` */
  hasCachedUpdates(): boolean;
  /** emit the latest update of each window changed since the last call (the record cache) */
  emitUpdates(out: WindowSink): void;
  /**
   * a sensor's changelog entry, in any form it was written (saved-window-state.ts); ignored for
   * a sensor this partition's windows already hold. Throws DECODE_FAILED for one that is not a state.
   */
  restore(sensorId: string, saved: unknown): void;
  /** sensors whose state changed since the last call, each with its state as the changelog keeps it */
  takeChanged(): [sensorId: string, state: Uint8Array][];
  /** one sensor's state, as `takeChanged` gives it, if it changed since it was last taken */
  takeChangedOf(sensorId: string): Uint8Array | undefined;
  /** how many sensors changed since the last `takeChanged` */
  readonly changed: number;
  /** the whole partition (passivation); `createWindows(..., snapshot)` takes it back */
  snapshot(): PartitionWindowsSnapshot;
}

/**
 * a partition's windows while its actor is passivated: one byte string (partition-windows.ts),
 * which the worker's snapshot store keeps as it is
 */
export type PartitionWindowsSnapshot = Uint8Array;

export interface WindowSink {
  window(result: WindowResult, ingestedAt: number): void;
  late(record: LateRecord): void;
}

export interface WindowState {
  readonly windows: PartitionWindows;
  /** built on the first message, where the actor can address its model shard */
  sink: WindowSink | undefined;
  /** the close time last told to `onNextClose`, so it is told again only when it moves */
  reportedCloseAt: number;
  /** an `emit-updates` is in the mailbox (not part of the snapshot) */
  updatesQueued: boolean;
}

/**
 * When the window actors' cached updates go out: "batch", at the end of each burst of readings
 * (the node's default: the live feed's latency), or "checkpoint", held until the checkpoint
 * within the cache's bound (a Kafka Streams application's default, fewer outputs).
 */
export type WindowUpdateFlush = "batch" | "checkpoint";

export interface WindowDeps {
  readonly createWindows: (
    sensorType: SensorType,
    partition: number,
    snapshot?: PartitionWindowsSnapshot,
  ) => PartitionWindows;
  readonly emit: (output: HostOutput) => void;
  readonly now: () => number;
  readonly tickMs: number;
  /** when the cached updates go out (WindowUpdateFlush); default "batch" */
  readonly flushUpdates?: WindowUpdateFlush;
  /** the model kind scores final traffic windows */
  readonly scoreTypes: readonly SensorType[];
  readonly passivateAfterMs?: number;
  /** the actor's earliest open window may close at `closeAt` (+Infinity: none open) */
  readonly onNextClose?: (key: string, closeAt: number) => void;
  /** the actor passivated with its state published (or nothing to publish) */
  readonly onPassivated?: (key: string) => void;
  /** sensors' changelog entries restored for this actor since it last asked, [sensor, state] */
  readonly takeRestored?: (key: string) => readonly (readonly [sensorId: string, state: unknown])[];
}

/** the window actor of a sensor type on a partition */
export const windowKey = (sensorType: SensorType, partition: number) => `${sensorType}:${partition}`;

/** the changelog key of one sensor's window state (the per-sensor window actors' key) */
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
  const flushPerBatch = (deps.flushUpdates ?? "batch") === "batch";
  const publish = (key: string, state: WindowState) => {
    if (state.windows.changed === 0) return;
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
    for (const [sensorId, saved] of deps.takeRestored?.(key) ?? []) {
      try {
        windows.restore(sensorId, saved);
      } catch (error) {
        // One sensor's entry that does not decode (a corrupt changelog record, or one written
        // under another window configuration): that sensor starts empty, the others keep theirs.
        // State is restored as bytes and decoded only here, so the main thread hears of it from
        // here and reports it as any corrupt changelog record (counted, said once, a metric).
        if (!isPlatformError(error)) throw error;
        const { sensorType, partition } = parseWindowKey(key);
        deps.emit(
          corruptStateReport("window", sensorWindowKey(sensorType, partition, sensorId), partition, error),
        );
      }
    }
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
      return { windows, sink: undefined, reportedCloseAt: Number.NaN, updatesQueued: false };
    },
    onSignal(ctx, signal) {
      // The tick is housekeeping (idle partitions in processing time): it must not keep an idle
      // window actor alive. One with an open window passivates too; the node's watermark wakes
      // it when the window may close (the partition host's event-time timers).
      if (signal.type === "started" || signal.type === "restarted") {
        if (ctx.state.windows.closesInProcessingTime())
          ctx.startTimer("tick", deps.tickMs, { type: "tick" }, { repeat: true, keepsAlive: false });
      } else if (signal.type === "passivating") {
        emitCachedUpdates(ctx.state);
        publish(ctx.key, ctx.state);
        deps.onPassivated?.(ctx.key);
      }
    },
    receive(ctx, message) {
      const state = ctx.state;
      state.sink ??= windowSink(deps, ctx.key, (partition) =>
        ctx.ref<ModelShardMessage>("model", String(partition)),
      );
      const sink = state.sink;
      switch (message.type) {
        case "reading":
          if (!state.windows.add(message.reading, sink)) return; // replayed after a restore
          if (flushPerBatch && !state.updatesQueued && state.windows.hasCachedUpdates())
            // a full mailbox refuses it: the next reading or the checkpoint emits them then
            state.updatesQueued = ctx.self.tell({ type: "emit-updates" });
          break;
        case "emit-updates":
          state.updatesQueued = false;
          state.windows.emitUpdates(sink);
          return;
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
        case "publish": {
          emitCachedUpdates(state);
          const sensorState = state.windows.takeChangedOf(message.sensorId);
          if (sensorState === undefined) return;
          const { sensorType, partition } = parseWindowKey(ctx.key);
          deps.emit({
            type: "state",
            kind: "window",
            key: sensorWindowKey(sensorType, partition, message.sensorId),
            partition,
            state: sensorState,
          });
          return;
        }
        case "evict":
          emitCachedUpdates(state);
          ctx.stop();
          return;
        case "checkpoint":
          // a flush before every checkpoint: no update is held past the state that implies it
          emitCachedUpdates(state);
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

function emitCachedUpdates(state: WindowState): void {
  if (state.sink !== undefined && state.windows.hasCachedUpdates()) state.windows.emitUpdates(state.sink);
}

function windowSink(
  deps: WindowDeps,
  key: string,
  modelOf: (partition: number) => ActorRef<ModelShardMessage>,
): WindowSink {
  const { sensorType, partition } = parseWindowKey(key);
  const model = deps.scoreTypes.includes(sensorType) ? modelOf(partition) : undefined;
  return new ActorWindowSink(deps.emit, model);
}

/**
 * A class, not an object of two closures: there is one per window actor, and its methods on
 * the prototype are shared instead of two functions and a scope each (300k objects at 100k
 * sensors).
 */
class ActorWindowSink implements WindowSink {
  constructor(
    private readonly emit: WindowDeps["emit"],
    private readonly model: ActorRef<ModelShardMessage> | undefined,
  ) {}

  window(result: WindowResult, ingestedAt: number): void {
    this.emit({ type: "window", window: result, ingestedAt });
    if (result.final && this.model) this.model.tell({ type: "score", window: result, ingestedAt });
  }

  late(record: LateRecord): void {
    this.emit({ type: "late", late: record });
  }
}
