import type { HealthCheck, nodeHealth } from "../api/health.ts";
import type { Membership } from "../engine/membership.ts";
import type { PartitionHosts } from "../engine/partition-hosts.ts";
import { consumerLag } from "../log/consumer-lag.ts";
import type { MetricSample } from "../messages/alert.ts";
import { Topics } from "../messages/topics.ts";
import type { ActorSystem } from "../supervisor/index.ts";
import { aggregateTopics } from "./aggregates.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * What a node looks at every two seconds: health signals (the actor systems and the log
 * answering), mailbox and actor gauges per part, the dead-letter rate for the alert rules, the
 * membership's malformed announcements, and the supervision trees the API serves.
 */
export interface Housekeeping {
  /** the health checks the samples feed */
  readonly health: { readonly checks: readonly HealthCheck[] };
  /** the supervision tree of every worker, as of the last look */
  workerTrees(): unknown[];
  stop(): void;
}

export function startHousekeeping(
  node: NodeContext,
  parts: {
    readonly main: ActorSystem;
    readonly hosts: PartitionHosts;
    readonly health: ReturnType<typeof nodeHealth>;
    readonly membership: Membership;
    readonly sample: (sample: MetricSample) => void;
    readonly everyMs?: number;
  },
): Housekeeping {
  const deps = {
    ...parts,
    log: node.log,
    metrics: node.metrics,
    rejected: () => node.counters.rejected,
    malformedAnnouncements: () => parts.membership.stats().malformedAnnouncements,
    onLogError: node.failures.logUnavailable,
    onError: node.failures.fail,
  };
  const everyMs = deps.everyMs ?? 2000;
  let lastRejected = 0;
  const app = node.config.applicationId;
  const repartition = aggregateTopics(app);
  // the input's group and the single-owner aggregates' group (the dashboard's lag panels)
  const lagged = [
    { group: app, topic: Topics.sensorsRaw },
    { group: `${app}-aggregates`, topic: repartition.typeWindows },
    { group: `${app}-aggregates`, topic: repartition.drift },
  ];
  // lag is for looking at, never a reason to fail the node: said once, then the panel goes stale
  let lagUnreadSaid = false;
  const lagUnread = (error: unknown) => {
    if (lagUnreadSaid) return;
    lagUnreadSaid = true;
    console.warn(`consumer lag unreadable: ${error instanceof Error ? error.message : String(error)}`);
  };
  let trees: unknown[] = [];
  const look = () => {
    const now = Date.now();
    deps.health.sample(now);
    deps.log
      .endOffset({ topic: Topics.sensorsRaw, partition: 0 })
      .then(() => deps.health.logAnswered(), deps.onLogError);
    deps.metrics.malformedMemberAnnouncements.set(deps.malformedAnnouncements());
    deps.metrics.workers.set(deps.hosts.workers);
    for (const { group, topic } of lagged)
      consumerLag(deps.log, group, topic)
        .then((lags) => {
          for (const { partition, lag } of lags)
            deps.metrics.consumerLag.set({ group, topic, partition: String(partition) }, lag);
        })
        .catch(lagUnread);
    const rejected = deps.rejected();
    deps.sample({
      metric: "dead_letters_per_second",
      value: (rejected - lastRejected) / (everyMs / 1000),
      labels: {},
      at: now,
    });
    lastRejected = rejected;
    deps.hosts
      .stats()
      .then((all) => {
        deps.health.heartbeat();
        for (const [part, stats] of [
          ["main", deps.main.stats()] as const,
          ...all.map((s, i) => [`worker-${i}`, s] as const),
        ])
          for (const [kind, byKind] of Object.entries(stats.byKind)) {
            deps.metrics.mailboxDepth.set({ part, kind }, byKind.mailboxDepth);
            deps.metrics.actors.set({ part, kind }, byKind.actors);
          }
      })
      .catch(deps.onError);
    deps.hosts
      .tree()
      .then((latest) => {
        trees = latest;
      })
      .catch(deps.onError);
  };
  const timer = setInterval(look, everyMs);
  return {
    health: deps.health,
    workerTrees: () => trees,
    stop: () => clearInterval(timer),
  };
}
