import type { Silences } from "../../alerting/silences.ts";
import type { Alert, AlertNotification } from "../../messages/alert.ts";
import { inhibitedBy } from "./inhibitor.ts";
import { type AlertRouting, groupLabelsOf, matchRoutes, type Route } from "./route-tree.ts";

/**
 * Alertmanager's dispatcher and notification pipeline, without I/O and with the clock passed in:
 * each alert goes to the aggregation group of every route that takes it (route x group labels);
 * a group's first notification waits `group_wait` so the alerts of one incident arrive together,
 * later ones go out at most every `group_interval`, and an unchanged group is repeated after
 * `repeat_interval`. At a flush the muted alerts (silenced, or inhibited by a firing source)
 * are left out, and the notification log decides whether anything changed since the last
 * notification (Alertmanager's DedupStage): new firing alerts, newly resolved ones that were
 * notified firing, or the repeat interval passed. Resolved alerts leave the group after the
 * flush that reported them; an empty group is dropped.
 */
interface NotificationLogEntry {
  readonly firing: ReadonlySet<string>;
  readonly resolved: ReadonlySet<string>;
  readonly at: number;
}

interface AggregationGroup {
  readonly key: string;
  readonly route: Route;
  readonly labels: Readonly<Record<string, string>>;
  readonly alerts: Map<string, Alert>;
  nextFlushAt: number;
  notified: NotificationLogEntry | undefined;
}

export interface MuteState {
  readonly silencedBy: readonly string[];
  /** the fingerprint of the firing alert that inhibits this one */
  readonly inhibitedBy: string | undefined;
}

export interface AlertDispatcherOptions {
  /** alerts one notification carries at most; the rest are counted in `truncatedAlerts` */
  readonly maxAlertsPerNotification?: number;
  /** aggregation groups at most; an alert for a new group past it is counted in `refused` */
  readonly maxGroups?: number;
}

export class AlertDispatcher {
  private readonly groups = new Map<string, AggregationGroup>();
  private readonly maxAlerts: number;
  private readonly maxGroups: number;
  /** alerts that found no room for their group */
  refused = 0;
  /** alerts left out of notifications because they were muted */
  muted = 0;

  constructor(
    private readonly routing: AlertRouting,
    private readonly silences: Silences,
    /** the firing alerts that may inhibit others */
    private readonly firing: () => readonly Alert[],
    options: AlertDispatcherOptions = {},
  ) {
    this.maxAlerts = options.maxAlertsPerNotification ?? 1000;
    this.maxGroups = options.maxGroups ?? 10_000;
  }

  /** add (or update) an alert in its groups; returns the notifications due at once (group_wait 0) */
  insert(alert: Alert, now: number): AlertNotification[] {
    const due: AlertNotification[] = [];
    let sources: readonly Alert[] | undefined;
    for (const route of matchRoutes(this.routing.root, alert.labels)) {
      const labels = groupLabelsOf(route, alert);
      const key = `${route.id}:${labelText(labels)}`;
      let group = this.groups.get(key);
      if (!group) {
        if (alert.status === "resolved") continue; // nothing was notified for it in this group
        if (this.groups.size >= this.maxGroups) {
          this.refused++;
          continue;
        }
        group = {
          key,
          route,
          labels,
          alerts: new Map(),
          nextFlushAt: now + route.groupWaitMs,
          notified: undefined,
        };
        this.groups.set(key, group);
      }
      group.alerts.set(alert.fingerprint, alert);
      if (group.nextFlushAt <= now) {
        sources ??= this.inhibitionSources();
        this.flush(group, now, due, sources);
      }
    }
    return due;
  }

  /** the notifications due by now (group_wait, group_interval, repeat_interval) */
  due(now: number): AlertNotification[] {
    const due: AlertNotification[] = [];
    let sources: readonly Alert[] | undefined;
    for (const group of this.groups.values())
      if (group.nextFlushAt <= now) {
        sources ??= this.inhibitionSources();
        this.flush(group, now, due, sources);
      }
    return due;
  }

  /** when the next group is due; undefined without groups */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values())
      if (next === undefined || group.nextFlushAt < next) next = group.nextFlushAt;
    return next;
  }

  muteState(alert: Alert, now: number, sources: readonly Alert[] = this.inhibitionSources()): MuteState {
    return {
      silencedBy: this.silences.mutedBy(alert.labels, now),
      inhibitedBy: inhibitedBy(this.routing.inhibitRules, alert, sources),
    };
  }

  /** the mute state of many alerts, the firing sources read once */
  muteStates(alerts: readonly Alert[], now: number): MuteState[] {
    const sources = this.inhibitionSources();
    return alerts.map((alert) => this.muteState(alert, now, sources));
  }

  /** the firing alerts that may inhibit others; none are read without inhibit rules */
  private inhibitionSources(): readonly Alert[] {
    return this.routing.inhibitRules.length > 0 ? this.firing() : [];
  }

  groupCount(): number {
    return this.groups.size;
  }

  private flush(
    group: AggregationGroup,
    now: number,
    out: AlertNotification[],
    firingSources: readonly Alert[],
  ): void {
    group.nextFlushAt = now + group.route.groupIntervalMs;
    const all = [...group.alerts.values()];
    const unmuted = all.filter((alert) => {
      const muted =
        this.silences.mutedBy(alert.labels, now).length > 0 ||
        inhibitedBy(this.routing.inhibitRules, alert, firingSources) !== undefined;
      if (muted) this.muted++;
      return !muted;
    });
    for (const alert of all) if (alert.status === "resolved") group.alerts.delete(alert.fingerprint);
    if (group.alerts.size === 0) this.groups.delete(group.key);
    if (unmuted.length === 0) return;
    const firing = new Set(unmuted.filter((a) => a.status === "firing").map((a) => a.fingerprint));
    const resolved = new Set(unmuted.filter((a) => a.status === "resolved").map((a) => a.fingerprint));
    if (!needsUpdate(group.notified, firing, resolved, now, group.route.repeatIntervalMs)) return;
    // a resolved alert never notified as firing is news to nobody
    const sent = unmuted.filter((a) => a.status === "firing" || group.notified?.firing.has(a.fingerprint));
    if (sent.length === 0) return;
    group.notified = { firing, resolved, at: now };
    out.push(notificationOf(group, sent, this.maxAlerts, now));
  }
}

/** Alertmanager's DedupStage.needsUpdate, with send_resolved on */
function needsUpdate(
  entry: NotificationLogEntry | undefined,
  firing: ReadonlySet<string>,
  resolved: ReadonlySet<string>,
  now: number,
  repeatIntervalMs: number,
): boolean {
  if (!entry) return firing.size > 0;
  for (const f of firing) if (!entry.firing.has(f)) return true;
  if (firing.size === 0) return entry.firing.size > 0;
  for (const r of resolved) if (!entry.resolved.has(r)) return true;
  return entry.at + repeatIntervalMs <= now;
}

function notificationOf(
  group: AggregationGroup,
  alerts: readonly Alert[],
  maxAlerts: number,
  now: number,
): AlertNotification {
  const kept = alerts.slice(0, maxAlerts);
  return {
    receiver: group.route.receiver,
    groupKey: group.key,
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    groupLabels: group.labels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    alerts: kept,
    truncatedAlerts: alerts.length - kept.length,
    at: now,
  };
}

function common(sets: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = sets;
  const shared: Record<string, string> = {};
  if (!first) return shared;
  for (const [name, value] of Object.entries(first))
    if (rest.every((s) => s[name] === value)) shared[name] = value;
  return shared;
}

/** `{a="1",b="2"}` with sorted names, as Alertmanager prints group keys */
function labelText(labels: Readonly<Record<string, string>>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(",")}}`;
}
