import { type AlertChannelMessage, type AlertDelivery, alertChannelProps } from "../actors/alert-channel.ts";
import { type AlertRouterMessage, alertRouterProps } from "../actors/alert-router.ts";
import type { Alert, AlertRule } from "../actors/alert-rules.ts";
import { type DriftCheck, type DriftMessage, driftMonitorProps } from "../actors/drift-monitor.ts";
import { type TypeWindowMessage, typeWindowProps } from "../actors/type-window.ts";
import type { DriftReport } from "../messages/drift-report.ts";
import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { ActorRef } from "../supervisor/actor.ts";
import type { ActorSystem } from "../supervisor/index.ts";

/**
 * The main thread's actors: per-type windows, the drift monitor of each model, the alert router
 * and one actor per alert channel. They live on the main thread because they fan in from every
 * partition (type windows, drift) or do I/O (alert channels).
 */
export interface MainActorsDeps {
  readonly system: ActorSystem;
  readonly models: readonly string[];
  readonly createDriftCheck: (model: string) => DriftCheck;
  readonly rules: readonly AlertRule[];
  readonly deliveries: readonly AlertDelivery[];
  readonly closeTypeWindowsAfterMs: number;
  readonly driftEvaluateEveryMs: number;
  readonly onDriftSnapshot?: (model: string, state: unknown) => void;
  readonly onTypeWindow: (window: WindowResult) => void;
  readonly onLateTypeWindow: (window: WindowResult) => void;
  readonly onDriftReport: (report: DriftReport) => void;
  readonly onAlert: (alert: Alert) => void;
  readonly onDeliveryFailure: (channel: string, alert: Alert, error: unknown) => void;
  readonly now: () => number;
}

export interface MainActors {
  typeWindow(type: string): ActorRef<TypeWindowMessage>;
  drift(model: string): ActorRef<DriftMessage>;
  readonly alerts: ActorRef<AlertRouterMessage>;
}

export function startMainActors(deps: MainActorsDeps): MainActors {
  const { system } = deps;
  const typeWindowKind = typeWindowProps({
    onWindow: deps.onTypeWindow,
    onLate: deps.onLateTypeWindow,
    now: deps.now,
    closeAfterMs: deps.closeTypeWindowsAfterMs,
    tickMs: 1000,
  });
  const typeWindows = new Map(
    SENSOR_TYPES.map((type) => [type as string, system.spawn(typeWindowKind, type)]),
  );

  const driftKind = driftMonitorProps({
    createCheck: deps.createDriftCheck,
    onReport: deps.onDriftReport,
    evaluateEveryMs: deps.driftEvaluateEveryMs,
    ...(deps.onDriftSnapshot ? { onSnapshot: deps.onDriftSnapshot } : {}),
  });
  const drifts = new Map(deps.models.map((model) => [model, system.spawn(driftKind, model)]));

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

  return {
    typeWindow: (type) => typeWindows.get(type) ?? system.ref<TypeWindowMessage>("type-window", type),
    drift: (model) => drifts.get(model) ?? system.ref<DriftMessage>("drift", model),
    alerts,
  };
}
