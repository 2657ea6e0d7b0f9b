import {
  type AlertChannelMessage,
  type AlertDelivery,
  alertChannelProps,
} from "../actors/alert/alert-channel.ts";
import {
  type AlertRouterMessage,
  type AlertStatusView,
  alertRouterProps,
} from "../actors/alert/alert-router.ts";
import { type DriftCheck, driftMonitorProps } from "../actors/drift/drift-monitor.ts";
import { typeWindowProps } from "../actors/type-window/type-window.ts";
import type { StopBudget } from "../engine/stop-deadline.ts";
import type { Alert, MetricSample } from "../messages/alert.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import type { DriftReport } from "../messages/drift-report.ts";
import { ErrorCodes } from "../messages/errors.ts";
import { Topics } from "../messages/topics.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { ActorRef } from "../supervisor/actor.ts";
import { type ActorSystem, createActorSystem, InMemorySnapshotStore } from "../supervisor/index.ts";
import { type NodeAggregates, openAggregates } from "./aggregates.ts";
import type { NodeAlerting } from "./alerting.ts";
import { countCorruptChangelog, type NodeContext } from "./node-context.ts";

/**
 * The main thread's actors: per-type windows, the drift monitor of each model, the alert router
 * and one actor per alert channel. Type windows and drift monitors fan in from every partition:
 * they are sharded kinds fed through repartition topics (engine/repartitioned-aggregates.ts), so
 * each key has one owner in the application; alert channels do I/O. Their outputs go through
 * the node's output router like the partition hosts' ones.
 */
export interface MainActorOutputs {
  typeWindow(window: WindowResult): void;
  driftReport(report: DriftReport): void;
  alert(alert: Alert): void;
  /** resolves when everything emitted so far is durable */
  flush(): Promise<void>;
}

export interface MainActorsDeps {
  readonly createDriftCheck: (model: string, restoredSample?: unknown) => DriftCheck;
  readonly alerting: NodeAlerting;
  readonly outputs: MainActorOutputs;
  /** an undecodable repartition record, for its topic's dead letters */
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  /** how often each drift monitor compares its sample with the reference; default 10 s */
  readonly driftEvaluateEveryMs?: number;
  readonly now?: () => number;
}

export interface MainActors {
  readonly system: ActorSystem;
  readonly aggregates: NodeAggregates;
  readonly alerts: ActorRef<AlertRouterMessage>;
  /** a metric sample for the alert rules */
  sample(sample: MetricSample): void;
  /** the pending and firing alerts with what mutes them (the alerts API) */
  activeAlerts(): AlertStatusView[];
  /**
   * within the node's stop budget: the aggregates' last checkpoint and the system's drain take
   * what is left; what the actors did not process by then is abandoned (the alert router's
   * queued samples, an aggregate's backlog, whose records stay uncommitted and are replayed)
   */
  stop(budget?: StopBudget): Promise<void>;
}

/** how long the main system's stop lets its actors finish what is queued, at most */
const MAIN_STOP_DRAIN_MS = 5_000;

/** idle aggregates passivate to the snapshot store; their state is in the changelog too */
const AGGREGATE_PASSIVATE_AFTER_MS = 600_000;

export async function startMainActors(node: NodeContext, deps: MainActorsDeps): Promise<MainActors> {
  const { metrics, feeds, failures, counters } = node;
  const { outputs } = deps;
  const now = deps.now ?? Date.now;
  const { alerting } = deps;
  const snapshots = new InMemorySnapshotStore();
  const system = createActorSystem({ name: "main", snapshots });
  system.events.subscribe((event) => {
    feeds.publish("supervisor", event);
    if (event.type === "supervision")
      metrics.restarts.inc({ decision: event.decision, strategy: event.strategy });
  });
  const aggregates = await openAggregates({
    config: node.config,
    log: node.log,
    codec: node.codec,
    partitions: node.partitions,
    onDeadLetter: deps.onDeadLetter,
    system,
    snapshots,
    onCorrupt: countCorruptChangelog(node),
    onTransientError: failures.retrying,
    onError: failures.fail,
    flushOutputs: () => outputs.flush(),
  });
  system.register(
    typeWindowProps({
      onWindow: (window) => outputs.typeWindow(window),
      onLate: (window) => metrics.lateRecords.inc({ stream: `type:${window.type}` }),
      onState: (key, state) => aggregates.engine.saveState("type-window", key, state),
      now,
      // a type window is final once every partition's sensor windows could have reached it: the
      // per-sensor grace, the slowest partition's idle timeout, and a margin for delivery
      closeAfterMs: node.config.graceMs + node.config.partitionIdleMs + 5000,
      spreadMs: node.config.partitionIdleMs + 5000,
      tickMs: 1000,
      passivateAfterMs: AGGREGATE_PASSIVATE_AFTER_MS,
    }),
  );
  system.register(
    driftMonitorProps({
      createCheck: deps.createDriftCheck,
      onReport: (report) => outputs.driftReport(report),
      onState: (key, state) => aggregates.engine.saveState("drift", key, state),
      evaluateEveryMs: deps.driftEvaluateEveryMs ?? 10_000,
      passivateAfterMs: AGGREGATE_PASSIVATE_AFTER_MS,
    }),
  );

  // an undeliverable notification goes to ops.alerts.dlq with the channel's reason
  const channelOf = (delivery: AlertDelivery): ActorRef<AlertChannelMessage> =>
    system.spawn(
      alertChannelProps({
        delivery,
        onUndeliverable: (channel, notification, error) => {
          metrics.alertDeliveryFailures.inc({ channel });
          const reason = error instanceof Error ? error.message : String(error);
          deps.onDeadLetter(
            deadLetter(
              `alert:${channel}`,
              ErrorCodes.ALERT_DELIVERY_FAILED,
              reason,
              JSON.stringify(notification),
              now(),
            ),
            Topics.alerts,
          );
        },
      }),
      delivery.name,
    );
  const channels = new Map(
    alerting.deliveries.map((delivery) => [delivery.name, channelOf(delivery)] as const),
  );
  let readAlerts: () => AlertStatusView[] = () => [];
  const alerts = system.spawn(
    alertRouterProps({
      rules: alerting.rules,
      routing: alerting.routing,
      silences: alerting.silences,
      channels: () => channels,
      ...(alerting.alertmanager ? { alertmanager: channelOf(alerting.alertmanager) } : {}),
      resendMs: alerting.resendMs,
      onStarted: (read) => {
        readAlerts = read;
      },
      onAlert: (alert) => {
        counters.alerts++;
        outputs.alert(alert);
      },
    }),
    "main",
  );
  await aggregates.engine.start();
  return {
    system,
    aggregates,
    alerts,
    sample: (sample) => alerts.tell({ type: "sample", sample }),
    activeAlerts: () => readAlerts(),
    async stop(budget) {
      await aggregates.engine.stop(budget).catch(failures.stopIncomplete);
      await system.stop(budget ? Math.min(MAIN_STOP_DRAIN_MS, budget.forWorkMs()) : undefined);
      alerting.close();
    },
  };
}
