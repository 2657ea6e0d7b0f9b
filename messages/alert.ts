import { z } from "zod";

/** How bad an alert is; routing and the dashboards key on it. */
export const Severity = z.enum(["info", "warning", "critical"]);
export type Severity = z.infer<typeof Severity>;

export const Comparison = z.enum(["greater_than", "less_than", "equals"]);
export type Comparison = z.infer<typeof Comparison>;

/** An alert as it leaves the alert router: to `ops.alerts`, the feeds, the channels, the view. */
export interface Alert {
  readonly id: string;
  readonly rule: string;
  readonly metric: string;
  readonly value: number;
  readonly threshold: number;
  readonly comparison: Comparison;
  readonly severity: Severity;
  readonly message: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly at: number;
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
