import type { DriftReport } from "../messages/drift-report.ts";
import type { Prediction } from "../messages/prediction.ts";
import type { Props } from "../supervisor/actor.ts";

/**
 * drift/<model>: watches the features a model is asked to score. It keeps a bounded recent
 * sample per feature and, every `evaluateEveryMs`, compares it with the model's training
 * reference (two-sample Kolmogorov-Smirnov and PSI, ml/drift) and publishes one report per
 * feature. Reports feed metrics, alerts and `ml.drift`; retraining will subscribe to them too.
 */
export type DriftMessage =
  | { readonly type: "observe"; readonly prediction: Prediction }
  | { readonly type: "evaluate" };

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
}

export interface DriftDeps {
  readonly createCheck: (model: string) => DriftCheck;
  readonly onReport: (report: DriftReport) => void;
  readonly evaluateEveryMs: number;
  /** after each evaluation: the monitor's state, for the drift changelog */
  readonly onSnapshot?: (model: string, state: unknown) => void;
}

export function driftMonitorProps(deps: DriftDeps): Props<DriftMessage, DriftState> {
  return {
    kind: "drift",
    mailbox: { capacity: 100_000, overflow: "drop-oldest" },
    initialState: (key, snapshot) =>
      snapshot ?? { check: deps.createCheck(key), observed: 0, evaluations: 0 },
    onSignal(ctx, signal) {
      if (signal.type === "started" || signal.type === "restarted")
        ctx.startTimer("evaluate", deps.evaluateEveryMs, { type: "evaluate" }, { repeat: true });
    },
    receive(ctx, message) {
      const state = ctx.state;
      if (message.type === "observe") {
        state.check.observe(message.prediction.features);
        state.observed++;
        return;
      }
      if (!state.check.ready()) return;
      state.evaluations++;
      for (const report of state.check.evaluate(ctx.now())) deps.onReport(report);
      deps.onSnapshot?.(ctx.key, state.check.snapshot());
    },
  };
}
