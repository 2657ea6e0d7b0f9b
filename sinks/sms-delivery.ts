import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import type { AlertNotification } from "../messages/alert.ts";
import { ErrorCodes } from "../messages/errors.ts";
import { postJson } from "./http-post.ts";

/**
 * SMS through an HTTP provider. A provider adapter turns one text to one number into its API's
 * request; `jsonSmsProvider` is the generic one (POST `{from, to, text}` with an optional bearer
 * token), which most gateways accept or a small relay can translate. A notification becomes one
 * short text per recipient: SMS is for waking someone, the details are on the other channels.
 */
export interface SmsProvider {
  readonly name: string;
  send(message: { readonly to: string; readonly text: string }): Promise<void>;
}

/** one SMS segment of GSM-7 text; longer texts are cut with an ellipsis */
export const SMS_MAX_CHARS = 160;

export function jsonSmsProvider(options: {
  readonly url: string;
  readonly from: string;
  /** sent as `Authorization: Bearer <token>`; never logged */
  readonly token?: string;
  readonly timeoutMs?: number;
}): SmsProvider {
  return {
    name: "json",
    send: ({ to, text }) =>
      postJson(
        options.url,
        { from: options.from, to, text },
        {
          code: ErrorCodes.ALERT_DELIVERY_FAILED,
          what: "SMS provider",
          timeoutMs: options.timeoutMs ?? 5000,
          ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
        },
      ),
  };
}

export function smsText(notification: AlertNotification): string {
  const firing = notification.alerts.filter((a) => a.status === "firing");
  const first = (firing[0] ?? notification.alerts[0])?.message ?? "";
  const head =
    notification.status === "firing"
      ? `[FIRING:${firing.length}] ${notification.commonLabels.alertname ?? notification.groupKey}`
      : `[RESOLVED] ${notification.commonLabels.alertname ?? notification.groupKey}`;
  const text = `${head}: ${first}`;
  return text.length <= SMS_MAX_CHARS ? text : `${text.slice(0, SMS_MAX_CHARS - 1)}…`;
}

export function smsDelivery(provider: SmsProvider, recipients: readonly string[]): AlertDelivery {
  // a retry of the same notification skips the numbers that already got it
  const sentTo = new WeakMap<AlertNotification, Set<string>>();
  return {
    name: "sms",
    async deliver(notification: AlertNotification) {
      const text = smsText(notification);
      const sent = sentTo.get(notification) ?? new Set<string>();
      sentTo.set(notification, sent);
      const pending = recipients.filter((to) => !sent.has(to));
      const results = await Promise.allSettled(
        pending.map(async (to) => {
          await provider.send({ to, text });
          sent.add(to);
        }),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed.length === 1) throw failed[0]?.reason;
      if (failed.length > 1)
        throw new AggregateError(
          failed.map((f) => f.reason),
          `${failed.length} of ${recipients.length} SMS not sent`,
        );
    },
  };
}
