import type { Silences } from "../../alerting/silences.ts";
import type { Alert, AlertNotification, MetricSample } from "../../messages/alert.ts";
import type { ActorRef, Props } from "../../supervisor/actor.ts";
import type { AlertChannelMessage } from "./alert-channel.ts";
import { AlertDispatcher, type MuteState } from "./alert-dispatcher.ts";
import type { AlertRule } from "./alert-rule.ts";
import { type ActiveAlert, AlertEvaluator } from "./alert-rules.ts";
import type { AlertRouting } from "./route-tree.ts";

/**
 * alert-router/<name>: evaluates metric samples against the alert rules (pending, firing,
 * resolved), hands every state change to `onAlert` (the log, the view), routes it to its
 * aggregation groups, and sends each group's notification to the channel actors its receiver
 * names. A repeating tick moves what only time moves: `for` durations, stale series, group
 * timings, and the resend of firing alerts to Alertmanager (Prometheus' resend delay: its
 * alerts expire there unless they are sent again).
 *
 * Telemetry may be shed under load (drop-oldest): a sample is a measurement, and the next one
 * says the same.
 */
export type AlertRouterMessage =
  | { readonly type: "sample"; readonly sample: MetricSample }
  | { readonly type: "tick" };

export interface AlertRouterState {
  readonly evaluator: AlertEvaluator;
  readonly dispatcher: AlertDispatcher;
  raised: number;
  notifications: number;
  lastResendAt: number;
}

/** an active alert as the API shows it: its rule state and what mutes it */
export interface AlertStatusView extends ActiveAlert, MuteState {}

export interface AlertRouterDeps {
  readonly rules: readonly AlertRule[];
  readonly routing: AlertRouting;
  readonly silences: Silences;
  /** the channel actors by name; a receiver's channel that is not here is not configured */
  readonly channels: () => ReadonlyMap<string, ActorRef<AlertChannelMessage>>;
  /** every state change (firing, resolved) */
  readonly onAlert: (alert: Alert) => void;
  /** the Alertmanager push: state changes at once, the firing ones again every `resendMs` */
  readonly alertmanager?: ActorRef<AlertChannelMessage>;
  /** a read of the router's state for the API, handed over when the router starts */
  readonly onStarted?: (read: () => AlertStatusView[]) => void;
  readonly tickMs?: number;
  readonly resendMs?: number;
  readonly maxSeries?: number;
}

/** alerts per POST to Alertmanager */
const PUSH_BATCH = 500;

export function alertRouterProps(deps: AlertRouterDeps): Props<AlertRouterMessage, AlertRouterState> {
  const tickMs = deps.tickMs ?? 250;
  const resendMs = deps.resendMs ?? 60_000;
  const send = (state: AlertRouterState, notifications: readonly AlertNotification[]) => {
    const channels = deps.channels();
    for (const notification of notifications) {
      state.notifications++;
      for (const name of deps.routing.receivers.get(notification.receiver) ?? [])
        channels.get(name)?.tell({ type: "deliver", notification });
    }
  };
  // in batches, so a resend of many firing alerts is many bounded POSTs, not one huge one
  const push = (alerts: readonly Alert[], now: number) => {
    if (!deps.alertmanager) return;
    for (let i = 0; i < alerts.length; i += PUSH_BATCH)
      deps.alertmanager.tell({ type: "deliver", notification: pushOf(alerts.slice(i, i + PUSH_BATCH), now) });
  };
  const changed = (state: AlertRouterState, alerts: readonly Alert[], now: number) => {
    for (const alert of alerts) {
      state.raised++;
      deps.onAlert(alert);
      send(state, state.dispatcher.insert(alert, now));
    }
    push(alerts, now);
  };
  return {
    kind: "alert-router",
    mailbox: { capacity: 50_000, overflow: "drop-oldest" },
    initialState: () => {
      const evaluator = new AlertEvaluator(deps.rules, { maxSeries: deps.maxSeries });
      const dispatcher = new AlertDispatcher(deps.routing, deps.silences, () => evaluator.firing());
      return { evaluator, dispatcher, raised: 0, notifications: 0, lastResendAt: 0 };
    },
    onSignal(ctx, signal) {
      if (signal.type !== "started" && signal.type !== "restarted") return;
      ctx.startTimer("tick", tickMs, { type: "tick" }, { repeat: true, keepsAlive: false });
      const { evaluator, dispatcher } = ctx.state;
      deps.onStarted?.(() => {
        const active = evaluator.active();
        const mutes = dispatcher.muteStates(
          active.map((a) => a.alert),
          ctx.now(),
        );
        return active.map((a, i) => ({ ...a, ...(mutes[i] as MuteState) }));
      });
    },
    receive(ctx, message) {
      const { state } = ctx;
      if (message.type === "sample") {
        const alerts = state.evaluator.evaluate(message.sample);
        if (alerts.length > 0) changed(state, alerts, ctx.now());
        return;
      }
      const now = ctx.now();
      changed(state, state.evaluator.tick(now), now);
      send(state, state.dispatcher.due(now));
      if (now - state.lastResendAt >= resendMs) {
        state.lastResendAt = now;
        push(state.evaluator.firing(), now);
      }
    },
  };
}

/** what the Alertmanager channel gets: the alerts to post, as one notification */
function pushOf(alerts: readonly Alert[], now: number): AlertNotification {
  return {
    receiver: "alertmanager",
    groupKey: "push",
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    alerts,
    truncatedAlerts: 0,
    at: now,
  };
}
