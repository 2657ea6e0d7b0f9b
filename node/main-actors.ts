import {
  type AlertChannelMessage,
  type AlertDelivery,
  alertChannelProps,
} from "../actors/alert/alert-channel.ts";
import { type AlertRouterMessage, alertRouterProps } from "../actors/alert/alert-router.ts";
import type { AlertRule } from "../actors/alert/alert-rules.ts";
import { type DriftCheck, driftMonitorProps } from "../actors/drift/drift-monitor.ts";
import { typeWindowProps } from "../actors/type-window/type-window.ts";
import type { Alert } from "../messages/alert.ts";
import type { DriftReport } from "../messages/drift-report.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { ActorRef } from "../supervisor/actor.ts";
import type { ActorSystem } from "../supervisor/index.ts";

/**
 * The main thread's actors: per-type windows, the drift monitor of each model, the alert router
 * and one actor per alert channel. Type windows and drift monitors fan in from every partition:
 * they are sharded kinds fed through repartition topics (engine/repartitioned-aggregates.ts), so
 * each key has one owner in the application; alert channels do I/O.
 */
export interface MainActorsDeps {
  readonly system: ActorSystem;
  readonly createDriftCheck: (model: string, restoredSample?: unknown) => DriftCheck;
  readonly rules: readonly AlertRule[];
  readonly deliveries: readonly AlertDelivery[];
  readonly closeTypeWindowsAfterMs: number;
  readonly driftEvaluateEveryMs: number;
  /** state of a type window or drift monitor at a checkpoint, for its changelog */
  readonly onState: (kind: "type-window" | "drift", key: string, state: unknown) => void;
  readonly onTypeWindow: (window: WindowResult) => void;
  readonly onLateTypeWindow: (window: WindowResult) => void;
  readonly onDriftReport: (report: DriftReport) => void;
  readonly onAlert: (alert: Alert) => void;
  readonly onDeliveryFailure: (channel: string, alert: Alert, error: unknown) => void;
  readonly now: () => number;
}

export interface MainActors {
  readonly alerts: ActorRef<AlertRouterMessage>;
}

/** idle aggregates passivate to the snapshot store; their state is in the changelog too */
const AGGREGATE_PASSIVATE_AFTER_MS = 600_000;

export function startMainActors(deps: MainActorsDeps): MainActors {
  const { system } = deps;
  system.register(
    typeWindowProps({
      onWindow: deps.onTypeWindow,
      onLate: deps.onLateTypeWindow,
      onState: (key, state) => deps.onState("type-window", key, state),
      now: deps.now,
      closeAfterMs: deps.closeTypeWindowsAfterMs,
      tickMs: 1000,
      passivateAfterMs: AGGREGATE_PASSIVATE_AFTER_MS,
    }),
  );
  system.register(
    driftMonitorProps({
      createCheck: deps.createDriftCheck,
      onReport: deps.onDriftReport,
      onState: (key, state) => deps.onState("drift", key, state),
      evaluateEveryMs: deps.driftEvaluateEveryMs,
      passivateAfterMs: AGGREGATE_PASSIVATE_AFTER_MS,
    }),
  );

  const channels: ActorRef<AlertChannelMessage>[] = deps.deliveries.map((delivery) =>
    system.spawn(
      alertChannelProps({ delivery, retries: 3, retryDelayMs: 200, onFailure: deps.onDeliveryFailure }),
      delivery.name,
    ),
  );
  const alerts = system.spawn(
    alertRouterProps({ rules: deps.rules, channels: () => channels, onAlert: deps.onAlert }),
    "main",
  );
  return { alerts };
}
