import type { Alert, AlertNotification } from "../messages/alert.ts";

/**
 * Alertmanager's webhook payload, version 4 (alertmanager/notify/webhook: `Message` wrapping
 * `template.Data`), so anything that consumes Alertmanager webhooks consumes this node's:
 *
 *   { "version": "4", "groupKey": string, "truncatedAlerts": int,
 *     "status": "firing" | "resolved", "receiver": string,
 *     "groupLabels": {..}, "commonLabels": {..}, "commonAnnotations": {..},
 *     "externalURL": string,
 *     "alerts": [ { "status", "labels", "annotations", "startsAt": RFC 3339,
 *                   "endsAt": RFC 3339 ("0001-01-01T00:00:00Z" while firing),
 *                   "generatorURL", "fingerprint" } ] }
 */
export interface WebhookAlertV4 {
  readonly status: "firing" | "resolved";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

export interface WebhookPayloadV4 {
  readonly version: "4";
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly status: "firing" | "resolved";
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly alerts: readonly WebhookAlertV4[];
}

/** Go's zero time, which Alertmanager prints as the end of an alert that has none */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

export function webhookAlertV4(alert: Alert, generatorURL = ""): WebhookAlertV4 {
  return {
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: alert.endsAt === undefined ? ZERO_TIME : new Date(alert.endsAt).toISOString(),
    generatorURL,
    fingerprint: alert.fingerprint,
  };
}

export function webhookPayloadV4(notification: AlertNotification, externalURL = ""): WebhookPayloadV4 {
  return {
    version: "4",
    groupKey: notification.groupKey,
    truncatedAlerts: notification.truncatedAlerts,
    status: notification.status,
    receiver: notification.receiver,
    groupLabels: notification.groupLabels,
    commonLabels: notification.commonLabels,
    commonAnnotations: notification.commonAnnotations,
    externalURL,
    alerts: notification.alerts.map((alert) =>
      webhookAlertV4(alert, externalURL && `${externalURL}/api/alerts`),
    ),
  };
}
