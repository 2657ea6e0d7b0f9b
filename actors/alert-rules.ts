import { z } from "zod";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";

/**
 * Alert rules, as in the original design's AlertManager: a metric, a comparison against a
 * threshold, a severity and a message template. Added: label matchers, and a cooldown so one
 * condition that stays true raises one alert per cooldown and key, not one per sample
 * (Alertmanager's group_interval, in its smallest form).
 */
export const Severity = z.enum(["info", "warning", "critical"]);
export type Severity = z.infer<typeof Severity>;

export const AlertRule = z.object({
  name: z.string().min(1),
  metric: z.string().min(1),
  comparison: z.enum(["greater_than", "less_than", "equals"]),
  threshold: z.number().refine(Number.isFinite, "threshold must be finite"),
  severity: Severity,
  /** `{metric}`, `{value}`, `{threshold}` and `{<label>}` are replaced */
  message_template: z.string().min(1),
  /** only samples whose labels include these */
  labels: z.record(z.string(), z.string()).optional(),
  cooldown_ms: z.number().int().nonnegative().default(60_000),
});
export type AlertRule = z.infer<typeof AlertRule>;

export const AlertRules = z.array(AlertRule);

export interface MetricSample {
  readonly metric: string;
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly at: number;
}

export interface Alert {
  readonly id: string;
  readonly rule: string;
  readonly metric: string;
  readonly value: number;
  readonly threshold: number;
  readonly comparison: AlertRule["comparison"];
  readonly severity: Severity;
  readonly message: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly at: number;
}

export function parseAlertRules(input: unknown): AlertRule[] {
  const parsed = AlertRules.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `alert rules: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

export function breaches(rule: AlertRule, value: number): boolean {
  switch (rule.comparison) {
    case "greater_than":
      return value > rule.threshold;
    case "less_than":
      return value < rule.threshold;
    case "equals":
      return value === rule.threshold;
  }
}

function matchesLabels(rule: AlertRule, labels: Readonly<Record<string, string>>): boolean {
  if (!rule.labels) return true;
  for (const [name, wanted] of Object.entries(rule.labels)) if (labels[name] !== wanted) return false;
  return true;
}

export function renderMessage(rule: AlertRule, sample: MetricSample): string {
  const values: Record<string, string> = {
    ...sample.labels,
    metric: sample.metric,
    value: String(Number.isInteger(sample.value) ? sample.value : sample.value.toFixed(4)),
    threshold: String(rule.threshold),
  };
  return rule.message_template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Evaluates samples against the rules; remembers when each (rule, labels) last fired. */
export class AlertEvaluator {
  private readonly lastFired = new Map<string, number>();
  private sequence = 0;
  suppressed = 0;

  constructor(private readonly rules: readonly AlertRule[]) {}

  evaluate(sample: MetricSample): Alert[] {
    const fired: Alert[] = [];
    if (!Number.isFinite(sample.value)) return fired;
    for (const rule of this.rules) {
      if (
        rule.metric !== sample.metric ||
        !matchesLabels(rule, sample.labels) ||
        !breaches(rule, sample.value)
      )
        continue;
      const groupKey = `${rule.name}|${Object.entries(sample.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`;
      const last = this.lastFired.get(groupKey);
      if (last !== undefined && sample.at - last < rule.cooldown_ms) {
        this.suppressed++;
        continue;
      }
      this.lastFired.set(groupKey, sample.at);
      this.sequence++;
      fired.push({
        id: `${sample.at}-${this.sequence}`,
        rule: rule.name,
        metric: sample.metric,
        value: sample.value,
        threshold: rule.threshold,
        comparison: rule.comparison,
        severity: rule.severity,
        message: renderMessage(rule, sample),
        labels: sample.labels,
        at: sample.at,
      });
    }
    return fired;
  }
}

/** The rules the cluster starts with; ALERT_RULES_FILE replaces them. */
export const DEFAULT_ALERT_RULES: AlertRule[] = parseAlertRules([
  {
    name: "sensor-anomaly",
    metric: "anomaly_score",
    comparison: "greater_than",
    threshold: 0.9,
    severity: "warning",
    message_template: "Anomaly on {sensor_id}: score {value} > {threshold}",
    cooldown_ms: 60_000,
  },
  {
    name: "feature-drift",
    metric: "drift_score",
    comparison: "greater_than",
    threshold: 0.5,
    severity: "critical",
    message_template: "Drift on {model}/{feature}: score {value} > {threshold}",
    cooldown_ms: 300_000,
  },
  {
    name: "low-quality",
    metric: "quality_score",
    comparison: "less_than",
    threshold: 0.6,
    severity: "warning",
    message_template: "Data quality of {sensor_id} fell to {value} (< {threshold})",
    cooldown_ms: 300_000,
  },
  {
    name: "dead-letter-rate",
    metric: "dead_letters_per_second",
    comparison: "greater_than",
    threshold: 50,
    severity: "warning",
    message_template: "{value} dead letters/s (> {threshold})",
    cooldown_ms: 60_000,
  },
]);
