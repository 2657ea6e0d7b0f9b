import { z } from "zod";

/** How bad an alert is; routing and the dashboards key on it. */
export const Severity = z.enum(["info", "warning", "critical"]);
export type Severity = z.infer<typeof Severity>;

export const Comparison = z.enum(["greater_than", "less_than", "equals"]);
export type Comparison = z.infer<typeof Comparison>;

/** What an alert is about: the platform itself, the data flowing through it, or a model. */
export const AlertCategory = z.enum(["system", "data", "model"]);
export type AlertCategory = z.infer<typeof AlertCategory>;

/** Firing until its condition clears (or its series goes stale), then resolved once. */
export type AlertStatus = "firing" | "resolved";

/**
 * An alert as it leaves the alert rules: to `ops.alerts`, the feeds, the router, the view.
 * Shaped after Prometheus' and Alertmanager's alert: its identity is its label set (`labels`
 * always holds `alertname`, `severity` and `category`), `fingerprint` is Alertmanager's hash of that set,
 * `startsAt` is when the rule began firing and `endsAt` is set once it resolved. The first
 * fields (`id` ... `at`) are the record the platform produced before, kept for its readers.
 */
export interface Alert {
  readonly id: string;
  readonly rule: string;
  readonly metric: string;
  /** the value of the sample that last changed the alert's state */
  readonly value: number;
  readonly threshold: number;
  readonly comparison: Comparison;
  readonly severity: Severity;
  /** the rule's message template, rendered (also `annotations.summary`) */
  readonly message: string;
  readonly labels: Readonly<Record<string, string>>;
  /** when this state change happened */
  readonly at: number;
  readonly status: AlertStatus;
  readonly category: AlertCategory;
  readonly annotations: Readonly<Record<string, string>>;
  /** Alertmanager's fingerprint of `labels`: 16 hex digits */
  readonly fingerprint: string;
  readonly startsAt: number;
  /** set when resolved */
  readonly endsAt?: number;
}

/** One observation the alert rules look at: a metric with labels at a time. */
export interface MetricSample {
  readonly metric: string;
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly at: number;
  /** observations of the sample's series so far, this one included (a sensor's readings) */
  readonly history?: number;
}

/**
 * A silence (Alertmanager's): alerts whose labels match every matcher are muted between
 * `startsAt` and `endsAt`. Created through the API with who and why.
 */
export const LabelMatcher = z.object({
  name: z.string().min(1).max(200),
  value: z.string().max(1000),
  isRegex: z.boolean().default(false),
  isEqual: z.boolean().default(true),
});
export type LabelMatcher = z.infer<typeof LabelMatcher>;

export const Silence = z.object({
  id: z.string().min(1),
  matchers: z.array(LabelMatcher).min(1).max(50),
  startsAt: z.number(),
  endsAt: z.number(),
  createdBy: z.string().min(1).max(200),
  comment: z.string().min(1).max(2000),
  /** set when the silence was expired early (DELETE) */
  updatedAt: z.number(),
});
export type Silence = z.infer<typeof Silence>;

/**
 * What a receiver's channels get: one aggregation group's alerts at one flush, as Alertmanager
 * hands them to its integrations (the webhook payload v4 is built from this).
 */
export interface AlertNotification {
  readonly receiver: string;
  readonly groupKey: string;
  readonly status: AlertStatus;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly alerts: readonly Alert[];
  /** alerts left out because the group held more than a notification carries */
  readonly truncatedAlerts: number;
  readonly at: number;
}
