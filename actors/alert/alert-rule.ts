import { z } from "zod";
import { AlertCategory, Comparison, type MetricSample, Severity } from "../../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { Duration } from "./durations.ts";

/**
 * An alert rule: a metric, a comparison against a threshold, a severity and a message
 * template, with Prometheus' alerting-rule semantics on top: a condition must hold `for` a
 * while before the alert fires (pending -> firing), `keep_firing_for` holds a firing alert
 * through short dips, and an alert resolves when its condition clears or its series stops
 * reporting for `stale_after` (Prometheus' staleness). `labels` selects the samples a rule looks
 * at (equality on the sample's labels); `alert_labels` and `annotations` are added to the alert.
 *
 * A minimum history: a score computed over a key's first few readings (a sensor seen for the
 * first time, its first window) says more about the missing history than about the sensor, so a
 * rule ignores samples whose series has fewer than `min_history` observations behind it.
 */
const LabelSet = z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a label name"), z.string());

export const AlertRule = z.object({
  name: z.string().min(1).max(200),
  metric: z.string().min(1),
  comparison: Comparison,
  threshold: z.number().refine(Number.isFinite, "threshold must be finite"),
  severity: Severity,
  category: AlertCategory.default("data"),
  /** `{metric}`, `{value}`, `{threshold}` and `{<label>}` are replaced; also the summary annotation */
  message_template: z.string().min(1),
  /** only samples whose labels include these */
  labels: z.record(z.string(), z.string()).optional(),
  alert_labels: LabelSet.default({}),
  /** templated like the message */
  annotations: z.record(z.string(), z.string()).default({}),
  /** how long the condition must hold before the alert fires; 0 fires at once */
  for: Duration.default(0),
  /** a firing alert stays firing this long after its condition cleared */
  keep_firing_for: Duration.default(0),
  /** a series without a sample this long resolves (or stops pending) */
  stale_after: Duration.default(300_000),
  /**
   * samples that say how many observations their series has (`history`: a sensor's readings)
   * alert only from this many on; samples without a history (drift, rates) are not held back
   */
  min_history: z.number().int().nonnegative().default(0),
});
export type AlertRule = z.infer<typeof AlertRule>;
export type AlertRuleInput = z.input<typeof AlertRule>;

export const AlertRules = z
  .array(AlertRule)
  .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, "rule names must be unique");

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

export function breaches(rule: Pick<AlertRule, "comparison" | "threshold">, value: number): boolean {
  switch (rule.comparison) {
    case "greater_than":
      return value > rule.threshold;
    case "less_than":
      return value < rule.threshold;
    case "equals":
      return value === rule.threshold;
  }
}

export function matchesLabels(rule: AlertRule, labels: Readonly<Record<string, string>>): boolean {
  if (!rule.labels) return true;
  for (const [name, wanted] of Object.entries(rule.labels)) if (labels[name] !== wanted) return false;
  return true;
}

export function renderTemplate(template: string, rule: AlertRule, sample: MetricSample): string {
  const values: Record<string, string> = {
    ...sample.labels,
    metric: sample.metric,
    value: String(Number.isInteger(sample.value) ? sample.value : sample.value.toFixed(4)),
    threshold: String(rule.threshold),
  };
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

export function renderMessage(rule: AlertRule, sample: MetricSample): string {
  return renderTemplate(rule.message_template, rule, sample);
}
