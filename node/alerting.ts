import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import { type AlertRule, DEFAULT_ALERT_RULES, parseAlertRules } from "../actors/alert/alert-rules.ts";
import { type AlertRouting, DEFAULT_ALERT_ROUTING, parseAlertRouting } from "../actors/alert/route-tree.ts";
import { silenceFile } from "../actors/alert/silence-file.ts";
import { Silences } from "../alerting/silences.ts";
import type { FeedHub } from "../api/feeds/feed-hub.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { feedDelivery, fileDelivery, webhookDelivery } from "../sinks/alert-deliveries.ts";
import { alertmanagerDelivery } from "../sinks/alertmanager-push.ts";
import { jsonSmsProvider, smsDelivery } from "../sinks/sms-delivery.ts";
import { smtpDelivery } from "../sinks/smtp-delivery.ts";
import type { NodeConfig } from "./config.ts";

/**
 * A node's alerting as configured: the rules (ALERT_RULES_FILE or the built-in ones), the
 * routing tree, receivers and inhibit rules (ALERT_ROUTES_FILE or the built-in ones), the
 * channels (the `alerts` feed and the JSON-lines file always; the webhook, email and SMS when
 * configured), the Alertmanager push (ALERTMANAGER_URL), and the silences, kept in
 * `<DATA_DIR>/alert-silences.json` so a silence the API accepted survives a restart.
 */
export interface NodeAlerting {
  readonly rules: AlertRule[];
  readonly routing: AlertRouting;
  /** by channel name */
  readonly deliveries: AlertDelivery[];
  readonly alertmanager: AlertDelivery | undefined;
  readonly silences: Silences;
  readonly resendMs: number;
  /** the silences file written (tests and stop wait for it) */
  flushed(): Promise<void>;
  close(): void;
}

export async function alertingOf(config: NodeConfig, feeds: FeedHub): Promise<NodeAlerting> {
  const deliveries: AlertDelivery[] = [
    feedDelivery(feeds),
    fileDelivery(config.alertLogFile ?? join(config.dataDir, "alerts.jsonl")),
  ];
  if (config.alertWebhookUrl)
    deliveries.push(
      webhookDelivery(config.alertWebhookUrl, { externalURL: `http://${config.host}:${config.port}` }),
    );
  const closers: (() => void)[] = [];
  if (config.smtpUrl) {
    const to = listOf(config.alertEmailTo);
    if (to.length === 0)
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "SMTP_URL is set but ALERT_EMAIL_TO names nobody");
    const email = smtpDelivery({ url: config.smtpUrl, from: config.alertEmailFrom, to });
    closers.push(email.close);
    deliveries.push(email);
  }
  if (config.smsProviderUrl) {
    const to = listOf(config.smsTo);
    if (to.length === 0)
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "SMS_PROVIDER_URL is set but SMS_TO names nobody");
    const provider = jsonSmsProvider({
      url: config.smsProviderUrl,
      from: config.smsFrom,
      ...(config.smsProviderToken ? { token: config.smsProviderToken } : {}),
    });
    deliveries.push(smsDelivery(provider, to));
  }
  const alertmanager = config.alertmanagerUrl
    ? alertmanagerDelivery(config.alertmanagerUrl, { resendMs: config.alertResendMs })
    : undefined;
  const rules = config.alertRulesFile
    ? parseAlertRules(await jsonFile(config.alertRulesFile, "ALERT_RULES_FILE"))
    : DEFAULT_ALERT_RULES;
  const routing = config.alertRoutesFile
    ? parseAlertRouting(await jsonFile(config.alertRoutesFile, "ALERT_ROUTES_FILE"))
    : DEFAULT_ALERT_ROUTING;
  const store = silenceFile(join(config.dataDir, "alert-silences.json"));
  const silences = new Silences(store.restored, { onChange: store.save });
  return {
    rules,
    routing,
    deliveries,
    alertmanager,
    silences,
    resendMs: config.alertResendMs,
    flushed: store.flushed,
    close: () => {
      for (const close of closers) close();
    },
  };
}

function listOf(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function jsonFile(path: string, setting: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `cannot read ${setting} ${path}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${setting} ${path} is not JSON`, { cause });
  }
}
