import nodemailer from "nodemailer";
import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import type { AlertNotification } from "../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";

/**
 * Email over SMTP. nodemailer speaks the protocol: STARTTLS and implicit TLS, AUTH PLAIN/LOGIN,
 * RFC 5322 headers with RFC 2047 encoding of non-ASCII subjects, dot-stuffing, multi-line
 * replies; a home-made client would have to get each of those right against every server.
 * `SMTP_URL` is `smtp://[user:pass@]host:port` (STARTTLS when offered) or `smtps://...`.
 * One mail per notification, to every recipient, with a subject Alertmanager's default email
 * template would give and a plain-text body listing the alerts.
 */
export interface SmtpOptions {
  readonly url: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs?: number;
}

export function emailSubject(notification: AlertNotification): string {
  const firing = notification.alerts.filter((a) => a.status === "firing").length;
  const labels = Object.entries(notification.groupLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return notification.status === "firing" ? `[FIRING:${firing}] ${labels}` : `[RESOLVED] ${labels}`;
}

export function emailText(notification: AlertNotification): string {
  const lines = [`${notification.alerts.length} alert(s) for ${notification.groupKey}`, ""];
  for (const alert of notification.alerts) {
    lines.push(`${alert.status.toUpperCase()} ${alert.labels.alertname ?? alert.rule} (${alert.severity})`);
    lines.push(`  ${alert.message}`);
    lines.push(
      `  since ${new Date(alert.startsAt).toISOString()}${alert.endsAt ? ` until ${new Date(alert.endsAt).toISOString()}` : ""}`,
    );
    lines.push(
      `  labels: ${Object.entries(alert.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}`,
    );
    lines.push("");
  }
  if (notification.truncatedAlerts > 0) lines.push(`(${notification.truncatedAlerts} more not listed)`);
  return lines.join("\n");
}

export function smtpDelivery(options: SmtpOptions): AlertDelivery & { close(): void } {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "SMTP_URL is not a URL", { cause });
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:")
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "SMTP_URL must start with smtp:// or smtps://");
  const secure = url.protocol === "smtps:";
  const host = url.host;
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    name: "email",
    async deliver(notification: AlertNotification) {
      try {
        await transport.sendMail({
          from: options.from,
          to: [...options.to],
          subject: emailSubject(notification),
          text: emailText(notification),
          headers: { "X-Alert-Group-Key": notification.groupKey },
        });
      } catch (cause) {
        // nodemailer's messages may quote the server's reply, never the URL's password
        const code = (cause as { responseCode?: number }).responseCode;
        throw new PlatformError(
          ErrorCodes.ALERT_DELIVERY_FAILED,
          `SMTP server ${host} did not take the mail${code ? ` (reply ${code})` : ""}`,
          { cause },
        );
      }
    },
    close: () => transport.close(),
  };
}
