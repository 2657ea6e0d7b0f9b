import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AlertDelivery } from "../actors/alert/alert-channel.ts";
import type { FeedHub } from "../api/feeds/feed-hub.ts";
import type { Alert } from "../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";

/** Where alerts go: the `alerts` WebSocket feed, a JSON-lines file, and an optional webhook. */

export function feedDelivery(feeds: FeedHub): AlertDelivery {
  return { name: "websocket", deliver: (alert) => feeds.publish("alerts", alert) };
}

export function fileDelivery(path: string): AlertDelivery {
  let ready: Promise<unknown> | undefined;
  return {
    name: "file",
    async deliver(alert: Alert) {
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      await appendFile(path, `${JSON.stringify(alert)}\n`);
    },
  };
}

/** POSTs the alert as JSON, as the original design's AlertManager did, with a timeout. */
export function webhookDelivery(url: string, timeoutMs = 5000): AlertDelivery {
  return {
    name: "webhook",
    async deliver(alert: Alert) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(alert),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        throw new PlatformError(ErrorCodes.WEBHOOK_FAILED, `alert webhook unreachable: ${String(cause)}`, {
          cause,
        });
      }
      if (!response.ok)
        throw new PlatformError(ErrorCodes.WEBHOOK_FAILED, `alert webhook answered HTTP ${response.status}`, {
          details: { status: response.status },
        });
    },
  };
}
