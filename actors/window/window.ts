import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { HostOutput, HotReading, LateRecord } from "../../messages/host-protocol.ts";
import type { SensorType } from "../../messages/sensor-reading.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { appliedOffsetOf, isSnapshotBytes } from "../../stream/index.ts";
import type { ActorRef, Props } from "../../supervisor/actor.ts";
import type { ModelShardMessage } from "../model-shard/model-shard.ts";

/**
 * window/<type>:<partition>:<sensor_id>: the event-time windows of one sensor. One actor per
 * sensor because its sensor actor is the only sender, so readings arrive in the sensor's log
 * order; a window actor shared by a partition's sensors would see each sensor's readings in
 * the order the scheduler happened to run their sensor actors, and call the slower ones late.
 * The watermark is the sensor's own stream time, lifted by the node's event-time watermark
 * (the `watermark` message): a sensor that goes silent still has its last window closed once
 * the other sensors' event time passes its end plus grace. The actor tells the partition host when
 * its earliest open window may close (`onNextClose`), so the host wakes only the actors that
 * have something to close, passivated ones included (Flink's event-time timer service).
 *
 * Updates go to the live feeds; a window's final result goes to `city.processed.<type>` and,
 * for traffic, to the partition's model shard. Late readings are published, never dropped.
 * Like the sensor actor, it publishes its state on checkpoints and skips replayed readings.
 *
 * Updates go through the operator's record cache (Kafka Streams' KIP-63) when the windows keep
 * one: the first reading that changes a window queues an `emit-updates` to the actor itself,
 * behind the readings already in its mailbox, so a burst of readings emits each window's latest
 * state once, with no timer and no wait beyond the burst. The cache is emptied before every
 * checkpoint, passivation and eviction, so the state published never runs ahead of the updates.
 */
export type WindowMessage =
  | { readonly type: "reading"; readonly reading: HotReading }
  | { readonly type: "tick" }
  /** the node's event time passed this point: close what ends before it (minus grace) */
  | { readonly type: "watermark"; readonly watermark: number }
  | { readonly type: "flush" }
  /** the readings queued before this one are applied: emit the windows' cached updates */
  | { readonly type: "emit-updates" }
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" };

/** What the actor needs of a window operator (stream/window), for one sensor. */
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

export interface WindowSink {
  window(result: WindowResult, ingestedAt: number): void;
  late(record: LateRecord): void;
}

export interface WindowState {
  readonly windows: SensorWindows;
  /** the input partition its key names, kept so a checkpoint does not parse the key again */
  readonly partition: number;
  /** built on the first message, where the actor can address its model shard */
  sink: WindowSink | undefined;
  lastOffset: number;
  /** the close time last told to `onNextClose`, so it is told again only when it moves */
  reportedCloseAt: number;
  /** changed since the state was last published (not part of the snapshot) */
  dirty: boolean;
  /** an `emit-updates` is in the mailbox (not part of the snapshot) */
  updatesQueued: boolean;
}

/** the JSON form the actor wrote before its state became bytes: still read from older changelogs */
interface WindowSnapshotJson {
  readonly windows: unknown;
  readonly lastOffset: number;
}

export interface WindowDeps {
  readonly createWindows: (sensorType: SensorType, partition: number, snapshot?: unknown) => SensorWindows;
  readonly emit: (output: HostOutput) => void;
  readonly now: () => number;
  readonly tickMs: number;
  /** the model kind scores final traffic windows */
  readonly scoreTypes: readonly SensorType[];
  readonly passivateAfterMs?: number;
  /** the actor's earliest open window may close at `closeAt` (+Infinity: none open) */
  readonly onNextClose?: (key: string, closeAt: number) => void;
  /** the actor passivated with its state published (or nothing to publish) */
  readonly onPassivated?: (key: string) => void;
}

export const windowKey = (sensorType: SensorType, partition: number, sensorId: string) =>
  `${sensorType}:${partition}:${sensorId}`;

export function parseWindowKey(key: string): { sensorType: SensorType; partition: number; sensorId: string } {
  const first = key.indexOf(":");
  const second = key.indexOf(":", first + 1);
  return {
    sensorType: key.slice(0, first) as SensorType,
    partition: Number(key.slice(first + 1, second)),
    sensorId: key.slice(second + 1),
  };
}

/**
 * The actor's state is its operator's snapshot bytes (stream/window/window-snapshot-bytes.ts),
 * its applied offset in their header: a checkpoint writes them to the changelog as they are,
 * and a restore brings them back to this actor untouched, decoded once here.
 */
const toWindowSnapshot = (state: WindowState): Uint8Array => state.windows.snapshotBytes(state.lastOffset);

const jsonText = new TextDecoder("utf-8", { fatal: true });

/** a saved state in any form it was written: bytes, JSON bytes of an older changelog, or JSON data */
function savedWindowState(snapshot: unknown): { windows: unknown; lastOffset: number } | undefined {
  if (snapshot === undefined) return undefined;
  if (snapshot instanceof Uint8Array) {
    if (isSnapshotBytes(snapshot)) return { windows: snapshot, lastOffset: appliedOffsetOf(snapshot) };
    return savedWindowState(parseJsonState(snapshot));
  }
  if (snapshot === null || typeof snapshot !== "object")
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "a window state is not an object", {
      details: { type: snapshot === null ? "null" : typeof snapshot },
    });
  const json = snapshot as WindowSnapshotJson;
  return { windows: json.windows, lastOffset: json.lastOffset ?? -1 };
}

function parseJsonState(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(jsonText.decode(bytes));
  } catch (error) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "a window state is neither a snapshot nor JSON", {
      cause: error,
      details: { length: bytes.length },
    });
  }
}

export function windowProps(deps: WindowDeps): Props<WindowMessage, WindowState> {
  const publish = (key: string, state: WindowState) => {
    state.dirty = false;
    deps.emit({
      type: "state",
      kind: "window",
      key,
      partition: state.partition,
      state: toWindowSnapshot(state),
    });
  };
  return {
    kind: "window",
    mailbox: { capacity: 65_536, overflow: "backpressure" },
    ...(deps.passivateAfterMs === undefined ? {} : { passivateAfterMs: deps.passivateAfterMs }),
    toSnapshot: toWindowSnapshot,
    initialState: (key, snapshot) => {
      const saved = savedWindowState(snapshot);
      const { sensorType, partition } = parseWindowKey(key);
      return {
        windows: deps.createWindows(sensorType, partition, saved?.windows),
        partition,
        sink: undefined,
        lastOffset: saved?.lastOffset ?? -1,
        reportedCloseAt: Number.NaN,
        dirty: false,
        updatesQueued: false,
      };
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
        if (ctx.state.dirty) publish(ctx.key, ctx.state);
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
          if (message.reading.offset <= state.lastOffset) return; // replayed after a restore
          state.lastOffset = message.reading.offset;
          state.dirty = true;
          state.windows.add(message.reading, sink);
          if (!state.updatesQueued && state.windows.hasCachedUpdates())
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
          state.dirty = true;
          state.windows.advanceTo(message.watermark, sink);
          break;
        case "flush":
          state.dirty = true;
          state.windows.flush(sink);
          break;
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
        // windows opened or closed (a tick that closes one changes the state too)
        if (!Number.isNaN(state.reportedCloseAt)) state.dirty = true;
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
