import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import type { Alert, AlertNotification } from "../messages/alert.ts";
import { ErrorCodes } from "../messages/errors.ts";
import { postJson } from "./http-post.ts";

/**
 * Pushes alerts to a real Alertmanager through its v2 API (`POST /api/v2/alerts`, a list of
 * postableAlert: labels, annotations, startsAt, endsAt, generatorURL), as Prometheus does:
 * a firing alert is sent with `endsAt` four resend intervals ahead, so Alertmanager resolves it
 * by itself if this node dies and stops resending; a resolved one with its real end.
 * Alertmanager does its own grouping, inhibition and silencing of what it receives.
 */
export interface PostableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
}

export function postableAlert(
  alert: Alert,
  now: number,
  resendMs: number,
  generatorURL?: string,
): PostableAlert {
  const endsAt = alert.endsAt ?? now + 4 * resendMs;
  return {
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    ...(generatorURL ? { generatorURL } : {}),
  };
}

export function alertmanagerDelivery(
  baseUrl: string,
  options: { resendMs: number; timeoutMs?: number; generatorURL?: string; now?: () => number },
): AlertDelivery {
  const url = `${baseUrl.replace(/\/+$/, "")}/api/v2/alerts`;
  const now = options.now ?? Date.now;
  return {
    name: "alertmanager",
    deliver: (notification: AlertNotification) =>
      postJson(
        url,
        notification.alerts.map((a) => postableAlert(a, now(), options.resendMs, options.generatorURL)),
        {
          code: ErrorCodes.ALERT_DELIVERY_FAILED,
          what: "Alertmanager",
          timeoutMs: options.timeoutMs ?? 5000,
        },
      ),
  };
}
