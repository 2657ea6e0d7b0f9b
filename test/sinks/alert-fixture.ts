import { labelsFingerprint } from "../../actors/alert/fingerprint.ts";
import type { Alert, AlertNotification } from "../../messages/alert.ts";

/** an alert as the rules make it, with Alertmanager's identity */
export function testAlert(
  labels: Record<string, string>,
  overrides: Partial<Omit<Alert, "labels" | "fingerprint">> = {},
): Alert {
  const all: Record<string, string> = { alertname: "worker-crashed", severity: "critical", ...labels };
  const status = overrides.status ?? "firing";
  return {
    id: `${labelsFingerprint(all)}-1000`,
    rule: all.alertname,
    metric: "worker_crashes",
    value: 1,
    threshold: 0,
    comparison: "greater_than",
    severity: all.severity as Alert["severity"],
    message: `${all.alertname} on ${all.node ?? "n1"}`,
    at: 1000,
    status,
    category: "system",
    annotations: { summary: `${all.alertname} on ${all.node ?? "n1"}` },
    startsAt: 1000,
    ...(status === "resolved" ? { endsAt: 5000 } : {}),
    ...overrides,
    labels: all,
    fingerprint: labelsFingerprint(all),
  };
}

export function testNotification(
  alerts: readonly Alert[],
  overrides: Partial<AlertNotification> = {},
): AlertNotification {
  return {
    receiver: "page",
    groupKey: '0.0:{alertname="worker-crashed"}',
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    groupLabels: { alertname: "worker-crashed" },
    commonLabels: { alertname: "worker-crashed" },
    commonAnnotations: {},
    alerts,
    truncatedAlerts: 0,
    at: 2000,
    ...overrides,
  };
}
