import type { DriftReport } from "../../messages/drift-report.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { Prediction } from "../../messages/prediction.ts";
import type { Props } from "../../supervisor/actor.ts";

/**
 * drift/<model>: watches the features a model is asked to score. It keeps a bounded recent
 * sample per feature and, every `evaluateEveryMs`, compares it with the model's training
 * reference (two-sample Kolmogorov-Smirnov and PSI, ml/drift) and publishes one report per
 * feature. Reports feed metrics, alerts and `ml.drift`; retraining will subscribe to them too.
 *
 * One owner in the application: predictions reach it through the `<app>-drift-repartition`
 * topic keyed by model (engine/repartitioned-aggregates.ts), so with several nodes one monitor
 * sees every prediction and one report stream comes out. A record replayed from that topic is
 * skipped by offset, a prediction repeated upstream by its id (the recent ids are kept).
 */
export type DriftMessage =
  | { readonly type: "observe"; readonly prediction: Prediction; readonly offset: number }
  | { readonly type: "evaluate" }
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" };

/** a record of the drift repartition topic (a prediction) as the monitor's message */
export function driftInputOf(value: unknown, offset: number): DriftMessage {
  const prediction = Prediction.safeParse(value);
  if (!prediction.success)
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "repartition record does not match its schema");
  return { type: "observe", prediction: prediction.data, offset };
}

/** The statistics side, built by the node from ml/drift for one model version. */
export interface DriftCheck {
  observe(features: Readonly<Record<string, number>>): void;
  /** enough recent samples for a meaningful test */
  ready(): boolean;
  evaluate(at: number): DriftReport[];
  /** the recent sample as plain data, for the drift changelog */
  snapshot(): unknown;
}

export interface DriftState {
  readonly check: DriftCheck;
  observed: number;
  evaluations: number;
  lastOffset: number;
  /** prediction ids seen lately, oldest first (a bounded guard against repeats upstream) */
  readonly recentIds: string[];
  readonly seen: Set<string>;
}

interface DriftSnapshot {
  readonly sample: unknown;
  readonly observed: number;
  readonly evaluations: number;
  readonly lastOffset: number;
  readonly recentIds: readonly string[];
}

export interface DriftDeps {
  /** the check of a model, refilled from a saved sample when there is one */
  readonly createCheck: (model: string, restoredSample?: unknown) => DriftCheck;
  readonly onReport: (report: DriftReport) => void;
  readonly evaluateEveryMs: number;
  /** the state at a checkpoint, for the changelog */
  readonly onState: (model: string, state: DriftSnapshot) => void;
  readonly passivateAfterMs: number;
  /** how many recent prediction ids are remembered; default 2,000 */
  readonly rememberIds?: number;
}

const toSnapshot = (state: DriftState): DriftSnapshot => ({
  sample: state.check.snapshot(),
  observed: state.observed,
  evaluations: state.evaluations,
  lastOffset: state.lastOffset,
  recentIds: state.recentIds,
});

export function driftMonitorProps(deps: DriftDeps): Props<DriftMessage, DriftState> {
  const rememberIds = deps.rememberIds ?? 2000;
  return {
    kind: "drift",
    mailbox: { capacity: 100_000, overflow: "backpressure" },
    passivateAfterMs: deps.passivateAfterMs,
    toSnapshot,
    initialState: (key, snapshot) => {
      const saved = snapshot as DriftSnapshot | undefined;
      const recentIds = [...(saved?.recentIds ?? [])];
      return {
        check: deps.createCheck(key, saved?.sample),
        observed: saved?.observed ?? 0,
        evaluations: saved?.evaluations ?? 0,
        lastOffset: saved?.lastOffset ?? -1,
        recentIds,
        seen: new Set(recentIds),
      };
    },
    onSignal(ctx, signal) {
      if (signal.type === "started" || signal.type === "restarted")
        ctx.startTimer("evaluate", deps.evaluateEveryMs, { type: "evaluate" }, { repeat: true });
    },
    receive(ctx, message) {
      const state = ctx.state;
      switch (message.type) {
        case "observe": {
          if (message.offset <= state.lastOffset) return; // replayed from the repartition topic
          state.lastOffset = message.offset;
          const id = message.prediction.prediction_id;
          if (state.seen.has(id)) return;
          state.seen.add(id);
          state.recentIds.push(id);
          if (state.recentIds.length > rememberIds) state.seen.delete(state.recentIds.shift()!);
          state.check.observe(message.prediction.features);
          state.observed++;
          return;
        }
        case "evaluate":
          if (!state.check.ready()) return;
          state.evaluations++;
          for (const report of state.check.evaluate(ctx.now())) deps.onReport(report);
          return;
        case "checkpoint":
          deps.onState(ctx.key, toSnapshot(state));
          return;
        case "evict":
          ctx.stop();
          return;
      }
    },
  };
}
