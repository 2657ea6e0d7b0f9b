import { z } from "zod";
import { type Alert, Comparison, type MetricSample, Severity } from "../../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Alert rules, as in the original design's AlertManager: a metric, a comparison against a
 * threshold, a severity and a message template. Added: label matchers, a cooldown so one
 * condition that stays true raises one alert per cooldown and key, not one per sample
 * (Alertmanager's group_interval, in its smallest form), and a minimum history: a score
 * computed over a key's first few readings (a sensor seen for the first time, its first
 * window) says more about the missing history than about the sensor, so a rule ignores samples
 * whose series has fewer than `min_history` observations behind it (Prometheus' `for:` in spirit:
 * a new series must exist a while before it can alert).
 */
export const AlertRule = z.object({
  name: z.string().min(1),
  metric: z.string().min(1),
  comparison: Comparison,
  threshold: z.number().refine(Number.isFinite, "threshold must be finite"),
  severity: Severity,
  /** `{metric}`, `{value}`, `{threshold}` and `{<label>}` are replaced */
  message_template: z.string().min(1),
  /** only samples whose labels include these */
  labels: z.record(z.string(), z.string()).optional(),
  cooldown_ms: z.number().int().nonnegative().default(60_000),
  /**
   * samples that say how many observations their series has (`history`: a sensor's readings)
   * alert only from this many on; samples without a history (drift, rates) are not held back
   */
  min_history: z.number().int().nonnegative().default(0),
});
export type AlertRule = z.infer<typeof AlertRule>;

export const AlertRules = z.array(AlertRule);

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

export interface AlertEvaluatorOptions {
  /**
   * (rule, labels) groups remembered for their cooldown at most; past it the oldest are
   * forgotten (and may fire again early) rather than letting a flood of keys grow the table
   */
  readonly maxGroups?: number;
}

const DEFAULT_MAX_GROUPS = 50_000;
/** a sweep of expired groups runs when the table doubled since the last one (amortised O(1)) */
const MIN_SWEEP_SIZE = 1024;

/**
 * Evaluates samples against the rules; remembers until when each (rule, labels) group is cooling
 * down. A group is forgotten once its cooldown passed (it could not suppress anything more), so
 * the table holds the groups that fired within the longest cooldown, bounded by `maxGroups`.
 */
export class AlertEvaluator {
  /** group key -> end of its cooldown; insertion order is firing order */
  private readonly coolingUntil = new Map<string, number>();
  private readonly maxGroups: number;
  private sweepAt = MIN_SWEEP_SIZE;
  private sequence = 0;
  suppressed = 0;
  /** samples held back because their series had too little history */
  warmingUp = 0;
  /** groups forgotten before their cooldown ended because the table was full */
  evicted = 0;

  constructor(
    private readonly rules: readonly AlertRule[],
    options: AlertEvaluatorOptions = {},
  ) {
    this.maxGroups = Math.max(1, options.maxGroups ?? DEFAULT_MAX_GROUPS);
  }

  /** (rule, labels) groups remembered now */
  get groups(): number {
    return this.coolingUntil.size;
  }

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
      if (sample.history !== undefined && sample.history < rule.min_history) {
        this.warmingUp++;
        continue;
      }
      const groupKey = `${rule.name}|${Object.entries(sample.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`;
      const until = this.coolingUntil.get(groupKey);
      if (until !== undefined && sample.at < until) {
        this.suppressed++;
        continue;
      }
      this.coolingUntil.delete(groupKey);
      this.coolingUntil.set(groupKey, sample.at + rule.cooldown_ms);
      if (this.coolingUntil.size >= this.sweepAt) this.sweep(sample.at);
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

  /** forget groups whose cooldown is over, then the oldest beyond `maxGroups` */
  private sweep(now: number): void {
    const table = this.coolingUntil;
    for (const [key, until] of table) if (until <= now) table.delete(key);
    for (const key of table.keys()) {
      if (table.size <= this.maxGroups) break;
      table.delete(key);
      this.evicted++;
    }
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, Math.min(2 * table.size, this.maxGroups + 1));
  }
}

/**
 * Readings a sensor needs before its scores may alert. The quality score of a sensor's first
 * window is computed over the part of the window it was seen in (completeness near 0, one late
 * reading is half of its timeliness): with one reading it scored 0.515 and the low-quality rule
 * fired for 30,571 of 50,000 new sensors. Ten readings make the score a statement about the
 * sensor, and the robust-z detectors warm up over 30 anyway.
 */
export const MIN_SENSOR_HISTORY = 10;

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
    min_history: MIN_SENSOR_HISTORY,
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
    min_history: MIN_SENSOR_HISTORY,
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
