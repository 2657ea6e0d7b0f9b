import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import { type AlertRule, DEFAULT_ALERT_RULES, parseAlertRules } from "../actors/alert/alert-rules.ts";
import type { FeedHub } from "../api/feeds/feed-hub.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { feedDelivery, fileDelivery, webhookDelivery } from "../sinks/alert-deliveries.ts";
import type { NodeConfig } from "./config.ts";

/**
 * A node's alerting as configured: the rules (ALERT_RULES_FILE or the built-in ones) and the
 * channels (the `alerts` feed, the JSON-lines file, and the webhook when one is named).
 */
export async function alertingOf(
  config: NodeConfig,
  feeds: FeedHub,
): Promise<{ rules: AlertRule[]; deliveries: AlertDelivery[] }> {
  const deliveries: AlertDelivery[] = [
    feedDelivery(feeds),
    fileDelivery(config.alertLogFile ?? join(config.dataDir, "alerts.jsonl")),
  ];
  if (config.alertWebhookUrl) deliveries.push(webhookDelivery(config.alertWebhookUrl));
  if (!config.alertRulesFile) return { rules: DEFAULT_ALERT_RULES, deliveries };
  let text: string;
  try {
    text = await readFile(config.alertRulesFile, "utf8");
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `cannot read ALERT_RULES_FILE ${config.alertRulesFile}`,
      {
        cause,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `ALERT_RULES_FILE ${config.alertRulesFile} is not JSON`,
      {
        cause,
      },
    );
  }
  return { rules: parseAlertRules(json), deliveries };
}
