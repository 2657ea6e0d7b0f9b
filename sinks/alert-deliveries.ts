import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import type { FeedHub } from "../api/feeds/feed-hub.ts";
import type { AlertNotification } from "../messages/alert.ts";
import { ErrorCodes } from "../messages/errors.ts";
import { webhookPayloadV4 } from "./alertmanager-webhook-v4.ts";
import { postJson } from "./http-post.ts";

/**
 * The node's own alert channels: the `alerts` WebSocket feed (each alert of a notification, as
 * before), a JSON-lines file (one notification a line), and a webhook that receives
 * Alertmanager's payload v4. Email, SMS and the Alertmanager push are beside this file.
 */
export function feedDelivery(feeds: FeedHub): AlertDelivery {
  return {
    name: "websocket",
    deliver(notification: AlertNotification) {
      for (const alert of notification.alerts) feeds.publish("alerts", alert);
    },
  };
}

export function fileDelivery(path: string): AlertDelivery {
  let ready: Promise<unknown> | undefined;
  return {
    name: "file",
    async deliver(notification: AlertNotification) {
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      await appendFile(path, `${JSON.stringify(notification)}\n`);
    },
  };
}

/** POSTs Alertmanager's webhook payload (version 4), with a timeout */
export function webhookDelivery(
  url: string,
  options: { timeoutMs?: number; externalURL?: string } = {},
): AlertDelivery {
  return {
    name: "webhook",
    deliver: (notification: AlertNotification) =>
      postJson(url, webhookPayloadV4(notification, options.externalURL), {
        code: ErrorCodes.WEBHOOK_FAILED,
        what: "alert webhook",
        timeoutMs: options.timeoutMs ?? 5000,
      }),
  };
}
