import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { type FieldAggregates, WindowResult } from "../../messages/window-result.ts";
import type { Props } from "../../supervisor/actor.ts";

/**
 * type-window/<type>: windows per sensor type, built by merging the final per-sensor windows
 * (count, sum, min and max merge exactly; the mean is derived). Each merge publishes an update;
 * a window is final once processing time passes its end plus `closeAfterMs`, which covers the
 * per-sensor grace period and the slowest partition's idle timeout.
 *
 * One owner in the application: the final per-sensor windows reach it through the
 * `<app>-type-windows-repartition` topic keyed by type (engine/repartitioned-aggregates.ts), so
 * with several nodes exactly one actor merges each type. A record replayed from that topic is
 * skipped by offset; a per-sensor window repeated upstream (a node that crashed and re-emitted
 * it) is merged once, by sensor.
 */
export type TypeWindowMessage =
  | { readonly type: "merge"; readonly window: WindowResult; readonly offset: number }
  | { readonly type: "tick" }
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" };

/** a record of the type-windows repartition topic (a final per-sensor window) as the actor's message */
export function typeWindowInputOf(value: unknown, offset: number): TypeWindowMessage {
  const window = WindowResult.safeParse(value);
  if (!window.success)
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "repartition record does not match its schema");
  return { type: "merge", window: window.data, offset };
}

interface OpenTypeWindow {
  result: WindowResult;
  sensors: Set<string>;
  /** processing time of its first per-sensor window */
  openedAt: number;
}

export interface TypeWindowState {
  readonly open: Map<number, OpenTypeWindow>;
  closedBefore: number;
  late: number;
  lastOffset: number;
}

/** the state as plain data, for the changelog */
interface TypeWindowSnapshot {
  readonly open: readonly {
    readonly result: WindowResult;
    readonly sensors: readonly string[];
    readonly openedAt?: number;
  }[];
  readonly closedBefore: number | null;
  readonly late: number;
  readonly lastOffset: number;
}

export interface TypeWindowDeps {
  readonly onWindow: (result: WindowResult) => void;
  readonly onLate: (window: WindowResult) => void;
  /** the state at a checkpoint, for the changelog */
  readonly onState: (key: string, state: TypeWindowSnapshot) => void;
  readonly now: () => number;
  readonly closeAfterMs: number;
  /**
   * how far apart the per-sensor windows of one window may arrive (the partitions close it each
   * as its own event time passes): a window stays open at least this long after its first one.
   * Without it a window already past its end + closeAfterMs (a backlog, a replay, a late
   * partition) closed at the next tick with only the partitions that had come so far.
   */
  readonly spreadMs: number;
  readonly tickMs: number;
  readonly passivateAfterMs: number;
}

function mergeFields(
  into: Record<string, FieldAggregates>,
  from: Readonly<Record<string, FieldAggregates>>,
): Record<string, FieldAggregates> {
  const merged: Record<string, FieldAggregates> = { ...into };
  for (const [field, add] of Object.entries(from)) {
    const have = merged[field];
    if (!have) {
      merged[field] = { ...add };
      continue;
    }
    const count = have.count + add.count;
    const sum = have.sum + add.sum;
    merged[field] = {
      count,
      sum,
      mean: count === 0 ? 0 : sum / count,
      min: Math.min(have.min, add.min),
      max: Math.max(have.max, add.max),
    };
  }
  return merged;
}

const toSnapshot = (state: TypeWindowState): TypeWindowSnapshot => ({
  open: [...state.open.values()].map((open) => ({
    result: open.result,
    sensors: [...open.sensors],
    openedAt: open.openedAt,
  })),
  closedBefore: Number.isFinite(state.closedBefore) ? state.closedBefore : null,
  late: state.late,
  lastOffset: state.lastOffset,
});

function fromSnapshot(snapshot: TypeWindowSnapshot | undefined, now: number): TypeWindowState {
  if (!snapshot) return { open: new Map(), closedBefore: Number.NEGATIVE_INFINITY, late: 0, lastOffset: -1 };
  return {
    open: new Map(
      snapshot.open.map((open) => [
        open.result.window_start,
        { result: open.result, sensors: new Set(open.sensors), openedAt: open.openedAt ?? now },
      ]),
    ),
    closedBefore: snapshot.closedBefore ?? Number.NEGATIVE_INFINITY,
    late: snapshot.late,
    lastOffset: snapshot.lastOffset,
  };
}

export function typeWindowProps(deps: TypeWindowDeps): Props<TypeWindowMessage, TypeWindowState> {
  return {
    kind: "type-window",
    mailbox: { capacity: 100_000, overflow: "backpressure" },
    passivateAfterMs: deps.passivateAfterMs,
    toSnapshot,
    initialState: (_key, snapshot) => fromSnapshot(snapshot as TypeWindowSnapshot | undefined, deps.now()),
    onSignal(ctx, signal) {
      if (signal.type === "started" || signal.type === "restarted")
        ctx.startTimer("tick", deps.tickMs, { type: "tick" }, { repeat: true });
    },
    receive(ctx, message) {
      const state = ctx.state;
      switch (message.type) {
        case "tick": {
          const now = deps.now();
          for (const [start, open] of [...state.open].sort(([a], [b]) => a - b)) {
            const closesAt = Math.max(
              open.result.window_end + deps.closeAfterMs,
              open.openedAt + deps.spreadMs,
            );
            if (closesAt > now) break;
            state.open.delete(start);
            state.closedBefore = Math.max(state.closedBefore, open.result.window_end);
            deps.onWindow({ ...open.result, final: true, emitted_at: now });
          }
          return;
        }
        case "checkpoint":
          deps.onState(ctx.key, toSnapshot(state));
          return;
        case "evict":
          ctx.stop();
          return;
        case "merge":
          break;
      }
      if (message.offset <= state.lastOffset) return; // replayed from the repartition topic
      state.lastOffset = message.offset;
      const window = message.window;
      if (window.window_end <= state.closedBefore) {
        state.late++;
        deps.onLate(window);
        return;
      }
      let open = state.open.get(window.window_start);
      if (!open) {
        open = {
          result: { ...window, scope: "type", key: ctx.key, count: 0, fields: {}, final: false },
          sensors: new Set(),
          openedAt: deps.now(),
        };
        state.open.set(window.window_start, open);
      }
      if (open.sensors.has(window.key)) return; // re-emitted upstream: merged once already
      open.sensors.add(window.key);
      open.result = {
        ...open.result,
        count: open.result.count + window.count,
        fields: mergeFields(open.result.fields, window.fields),
        emitted_at: deps.now(),
      };
      deps.onWindow(open.result);
    },
  };
}
