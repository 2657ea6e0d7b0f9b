import type { Alert, MetricSample } from "../../messages/alert.ts";
import { type AlertRule, breaches, matchesLabels, parseAlertRules, renderTemplate } from "./alert-rule.ts";
import { labelsFingerprint } from "./fingerprint.ts";

export {
  type AlertRule,
  AlertRules,
  breaches,
  parseAlertRules,
  renderMessage,
} from "./alert-rule.ts";

/**
 * The rules' state machine, per series (a rule and the labels of the samples it looks at), as
 * Prometheus' rule manager keeps it: inactive -> pending (the condition holds, for less than
 * `for`) -> firing -> resolved (the condition cleared, `keep_firing_for` later, or the series went
 * stale). Only pending and firing series are remembered; `evaluate` and `tick` return the state
 * changes that notify (firing and resolved), each an Alert with Alertmanager's identity.
 *
 * Samples drive it; `tick(now)` covers what needs no sample: a pending alert whose `for` ran out
 * while its last sample still breached, a `keep_firing_for` that ran out, a stale series.
 */
export type AlertState = "pending" | "firing";

export interface ActiveAlert {
  readonly state: AlertState;
  /** when the condition began to hold */
  readonly activeAt: number;
  readonly alert: Alert;
}

interface Series {
  readonly rule: AlertRule;
  readonly labels: Readonly<Record<string, string>>;
  readonly fingerprint: string;
  state: AlertState;
  activeAt: number;
  firedAt: number;
  lastSampleAt: number;
  lastBreachAt: number;
  lastSample: MetricSample;
  /** the alert as it fired: what inhibition and the Alertmanager resend see */
  firedAlert: Alert | undefined;
}

export interface AlertEvaluatorOptions {
  /**
   * pending and firing series remembered at most; past it the oldest pending ones are forgotten
   * (counted in `evicted`), and when none is pending a new series is not started (`refused`):
   * a firing alert is never forgotten without its resolve
   */
  readonly maxSeries?: number;
}

const DEFAULT_MAX_SERIES = 50_000;

export class AlertEvaluator {
  private readonly series = new Map<string, Series>();
  /** per rule, how many of its series are active: a rule with none skips non-breaching samples */
  private readonly activeByRule = new Map<AlertRule, number>();
  private readonly maxSeries: number;
  /** breaching samples held back because their series had too little history */
  warmingUp = 0;
  /** pending series forgotten because the table was full */
  evicted = 0;
  /** new series not started because the table was full of firing ones */
  refused = 0;

  constructor(
    private readonly rules: readonly AlertRule[],
    options: AlertEvaluatorOptions = {},
  ) {
    this.maxSeries = Math.max(1, options.maxSeries ?? DEFAULT_MAX_SERIES);
  }

  /** pending and firing series remembered now */
  get groups(): number {
    return this.series.size;
  }

  evaluate(sample: MetricSample): Alert[] {
    const changes: Alert[] = [];
    if (!Number.isFinite(sample.value)) return changes;
    for (const rule of this.rules) {
      if (rule.metric !== sample.metric || !matchesLabels(rule, sample.labels)) continue;
      const breach = breaches(rule, sample.value);
      if (!breach && !this.activeByRule.get(rule)) continue;
      if (breach && sample.history !== undefined && sample.history < rule.min_history) {
        this.warmingUp++;
        continue;
      }
      const key = seriesKey(rule, sample.labels);
      const series = this.series.get(key);
      if (breach) this.breached(key, series, rule, sample, changes);
      else if (series) this.cleared(key, series, sample, changes);
    }
    return changes;
  }

  /** the changes due by time alone: `for` elapsed, `keep_firing_for` elapsed, stale series */
  tick(now: number): Alert[] {
    const changes: Alert[] = [];
    for (const [key, s] of this.series) {
      if (now - s.lastSampleAt >= s.rule.stale_after) {
        if (s.state === "firing") changes.push(this.resolve(key, s, now));
        else this.forget(key, s);
      } else if (s.state === "pending" && now - s.activeAt >= s.rule.for) {
        changes.push(this.fire(s, now));
      } else if (
        s.state === "firing" &&
        s.lastSampleAt > s.lastBreachAt &&
        now - s.lastBreachAt >= s.rule.keep_firing_for
      ) {
        changes.push(this.resolve(key, s, now));
      }
    }
    return changes;
  }

  /** every pending and firing alert, oldest first */
  active(): ActiveAlert[] {
    return [...this.series.values()].map((s) => ({
      state: s.state,
      activeAt: s.activeAt,
      alert: this.alertOf(s, "firing", s.lastSampleAt),
    }));
  }

  /** the firing alerts, as they fired (built once per firing, not per call) */
  firing(): Alert[] {
    const alerts: Alert[] = [];
    for (const s of this.series.values()) if (s.firedAlert) alerts.push(s.firedAlert);
    return alerts;
  }

  private breached(
    key: string,
    series: Series | undefined,
    rule: AlertRule,
    sample: MetricSample,
    changes: Alert[],
  ) {
    if (!series) {
      if (!this.makeRoom()) return;
      // the category is a label too, so routes and silences can match on it (category="data")
      const labels = {
        ...sample.labels,
        ...rule.alert_labels,
        alertname: rule.name,
        severity: rule.severity,
        category: rule.category,
      };
      const created: Series = {
        rule,
        labels,
        fingerprint: labelsFingerprint(labels),
        state: "pending",
        activeAt: sample.at,
        firedAt: 0,
        lastSampleAt: sample.at,
        lastBreachAt: sample.at,
        lastSample: sample,
        firedAlert: undefined,
      };
      this.series.set(key, created);
      this.activeByRule.set(rule, (this.activeByRule.get(rule) ?? 0) + 1);
      if (rule.for === 0) changes.push(this.fire(created, sample.at));
      return;
    }
    series.lastSampleAt = sample.at;
    series.lastBreachAt = sample.at;
    series.lastSample = sample;
    if (series.state === "pending" && sample.at - series.activeAt >= rule.for)
      changes.push(this.fire(series, sample.at));
  }

  private cleared(key: string, series: Series, sample: MetricSample, changes: Alert[]) {
    series.lastSampleAt = sample.at;
    if (series.state === "pending") {
      this.forget(key, series);
      return;
    }
    if (sample.at - series.lastBreachAt >= series.rule.keep_firing_for) {
      series.lastSample = sample;
      changes.push(this.resolve(key, series, sample.at));
    }
  }

  private fire(series: Series, at: number): Alert {
    series.state = "firing";
    series.firedAt = at;
    series.firedAlert = this.alertOf(series, "firing", at);
    return series.firedAlert;
  }

  private resolve(key: string, series: Series, at: number): Alert {
    this.forget(key, series);
    return this.alertOf(series, "resolved", at);
  }

  private forget(key: string, series: Series): void {
    this.series.delete(key);
    const left = (this.activeByRule.get(series.rule) ?? 1) - 1;
    if (left > 0) this.activeByRule.set(series.rule, left);
    else this.activeByRule.delete(series.rule);
  }

  /** false when the table is full of firing series */
  private makeRoom(): boolean {
    if (this.series.size < this.maxSeries) return true;
    for (const [key, s] of this.series)
      if (s.state === "pending") {
        this.forget(key, s);
        this.evicted++;
        return true;
      }
    this.refused++;
    return false;
  }

  private alertOf(s: Series, status: Alert["status"], at: number): Alert {
    const { rule, lastSample } = s;
    const message = renderTemplate(rule.message_template, rule, lastSample);
    const annotations: Record<string, string> = { summary: message };
    for (const [name, template] of Object.entries(rule.annotations))
      annotations[name] = renderTemplate(template, rule, lastSample);
    const startsAt = s.state === "firing" || status === "resolved" ? s.firedAt : s.activeAt;
    return {
      id: `${s.fingerprint}-${startsAt}-${status === "firing" ? "f" : "r"}`,
      rule: rule.name,
      metric: rule.metric,
      value: lastSample.value,
      threshold: rule.threshold,
      comparison: rule.comparison,
      severity: rule.severity,
      message,
      labels: s.labels,
      at,
      status,
      category: rule.category,
      annotations,
      fingerprint: s.fingerprint,
      startsAt,
      ...(status === "resolved" ? { endsAt: at } : {}),
    };
  }
}

function seriesKey(rule: AlertRule, labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  let key = rule.name;
  for (const name of names) key += `\u0000${name}=${labels[name]}`;
  return key;
}

/**
 * Readings a sensor needs before its scores may alert. The quality score of a sensor's first
 * window is computed over the part of the window it was seen in (completeness near 0, one late
 * reading is half of its timeliness): with one reading it scored 0.515 and the low-quality rule
 * fired for 30,571 of 50,000 new sensors. Ten readings make the score a statement about the
 * sensor, and the robust-z detectors warm up over 30 anyway.
 */
export const MIN_SENSOR_HISTORY = 10;

/**
 * The rules the cluster starts with; ALERT_RULES_FILE replaces them. System rules look at the
 * node's own signals (alert-signals.ts), data rules at the readings and their sources,
 * model rules at drift and predictions. Every sample carries the node's `node` label, so the
 * inhibition rules can tell one node's symptoms from another's.
 */
export const DEFAULT_ALERT_RULES: AlertRule[] = parseAlertRules([
  // ---- system
  {
    name: "worker-crashed",
    category: "system",
    metric: "worker_crashes",
    comparison: "greater_than",
    threshold: 0,
    severity: "critical",
    message_template: "{value} worker crash(es) on {node} in the last 5 minutes",
    stale_after: "1m",
  },
  {
    name: "restart-intensity",
    category: "system",
    metric: "actor_restarts_per_minute",
    comparison: "greater_than",
    threshold: 30,
    severity: "warning",
    message_template: "{value} actor restarts/min on {node} (> {threshold})",
    for: "1m",
    stale_after: "1m",
  },
  {
    name: "consumer-lag",
    category: "system",
    metric: "consumer_lag_records",
    comparison: "greater_than",
    threshold: 100_000,
    severity: "warning",
    message_template: "consumer lag of {node} on {topic}: {value} records (> {threshold})",
    for: "2m",
    stale_after: "1m",
  },
  {
    name: "memory-high",
    category: "system",
    metric: "memory_used_ratio",
    comparison: "greater_than",
    threshold: 0.9,
    severity: "warning",
    message_template: "{node} uses {value} of its memory (> {threshold})",
    for: "1m",
    stale_after: "1m",
  },
  {
    name: "disk-low",
    category: "system",
    metric: "disk_free_ratio",
    comparison: "less_than",
    threshold: 0.1,
    severity: "critical",
    message_template: "{node}: only {value} of the disk of {path} is free (< {threshold})",
    for: "1m",
    stale_after: "1m",
  },
  {
    name: "sink-stalled",
    category: "system",
    metric: "sink_stalled_seconds",
    comparison: "greater_than",
    threshold: 30,
    severity: "critical",
    message_template: "sink {sink} of {node} has not delivered for {value} s",
    stale_after: "1m",
  },
  // ---- data
  {
    name: "volume-drop",
    category: "data",
    metric: "ingest_rate_ratio",
    comparison: "less_than",
    threshold: 0.5,
    severity: "warning",
    message_template: "{source} readings fell to {value} of their usual rate on {node}",
    for: "1m",
    stale_after: "1m",
  },
  {
    name: "source-stale",
    category: "data",
    metric: "source_staleness_seconds",
    comparison: "greater_than",
    threshold: 60,
    severity: "warning",
    message_template: "no {source} reading for {value} s on {node}",
    stale_after: "1m",
  },
  {
    name: "dead-letter-rate",
    category: "data",
    metric: "dead_letters_per_second",
    comparison: "greater_than",
    threshold: 50,
    severity: "warning",
    message_template: "{value} dead letters/s (> {threshold}): schema violations at the edge",
    for: "30s",
    stale_after: "1m",
  },
  {
    name: "low-quality",
    category: "data",
    metric: "quality_score",
    comparison: "less_than",
    threshold: 0.6,
    severity: "warning",
    message_template: "Data quality of {sensor_id} fell to {value} (< {threshold})",
    keep_firing_for: "5m",
    stale_after: "10m",
    min_history: MIN_SENSOR_HISTORY,
  },
  {
    name: "sensor-anomaly",
    category: "data",
    metric: "anomaly_score",
    comparison: "greater_than",
    threshold: 0.9,
    severity: "warning",
    message_template: "Anomaly on {sensor_id}: score {value} > {threshold}",
    keep_firing_for: "1m",
    stale_after: "10m",
    min_history: MIN_SENSOR_HISTORY,
  },
  // ---- model
  {
    name: "feature-drift",
    category: "model",
    metric: "drift_score",
    comparison: "greater_than",
    threshold: 0.5,
    severity: "critical",
    message_template: "Drift on {model}/{feature}: score {value} > {threshold}",
    keep_firing_for: "5m",
    stale_after: "30m",
  },
  {
    // concept drift as the operator sees it: the served version got worse on live labels
    name: "model-error-up",
    category: "model",
    metric: "model_live_error_ratio",
    comparison: "greater_than",
    threshold: 1.5,
    severity: "warning",
    message_template: "{model} version {version}: recent live error is {value}x its usual (> {threshold})",
    for: "2m",
    stale_after: "10m",
  },
  {
    name: "prediction-latency",
    category: "model",
    metric: "prediction_latency_ms",
    comparison: "greater_than",
    threshold: 250,
    severity: "warning",
    message_template: "{model} predictions take {value} ms (> {threshold})",
    for: "1m",
    stale_after: "5m",
  },
]);
