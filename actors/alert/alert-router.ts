import type { Alert, MetricSample } from "../../messages/alert.ts";
import type { ActorRef, Props } from "../../supervisor/actor.ts";
import type { AlertChannelMessage } from "./alert-channel.ts";
import { AlertEvaluator, type AlertRule } from "./alert-rules.ts";

/**
 * alert-router/<name>: evaluates metric samples (anomaly, drift, quality, error rates) against
 * the alert rules and hands each alert to every channel actor. Telemetry may be shed under
 * load (drop-oldest): a sample is a measurement, and the next one says the same.
 */
export type AlertRouterMessage = { readonly type: "sample"; readonly sample: MetricSample };

export interface AlertRouterState {
  readonly evaluator: AlertEvaluator;
  raised: number;
}

export interface AlertRouterDeps {
  readonly rules: readonly AlertRule[];
  readonly channels: () => readonly ActorRef<AlertChannelMessage>[];
  readonly onAlert: (alert: Alert) => void;
}

export function alertRouterProps(deps: AlertRouterDeps): Props<AlertRouterMessage, AlertRouterState> {
  return {
    kind: "alert-router",
    mailbox: { capacity: 50_000, overflow: "drop-oldest" },
    initialState: (_key, snapshot) => snapshot ?? { evaluator: new AlertEvaluator(deps.rules), raised: 0 },
    receive(ctx, { sample }) {
      for (const alert of ctx.state.evaluator.evaluate(sample)) {
        ctx.state.raised++;
        deps.onAlert(alert);
        for (const channel of deps.channels()) channel.tell({ type: "deliver", alert });
      }
    },
  };
}
