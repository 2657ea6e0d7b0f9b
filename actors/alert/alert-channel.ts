import type { Alert } from "../../messages/alert.ts";
import type { Props } from "../../supervisor/actor.ts";

/**
 * alert/<channel>: one actor per delivery channel (websocket, file, webhook). Delivery is the
 * channel's I/O, awaited, so a slow webhook only slows its own mailbox; a failed delivery is
 * retried a bounded number of times, then counted and published, never thrown at the sender.
 */
export type AlertChannelMessage = { readonly type: "deliver"; readonly alert: Alert };

export interface AlertDelivery {
  readonly name: string;
  deliver(alert: Alert): Promise<void> | void;
}

export interface AlertChannelState {
  delivered: number;
  failed: number;
}

export interface AlertChannelDeps {
  readonly delivery: AlertDelivery;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly onFailure: (channel: string, alert: Alert, error: unknown) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function alertChannelProps(deps: AlertChannelDeps): Props<AlertChannelMessage, AlertChannelState> {
  return {
    kind: "alert",
    mailbox: { capacity: 10_000, overflow: "drop-oldest" },
    initialState: (_key, snapshot) => snapshot ?? { delivered: 0, failed: 0 },
    async receive(ctx, { alert }) {
      let lastError: unknown;
      for (let attempt = 0; attempt <= deps.retries; attempt++) {
        try {
          await deps.delivery.deliver(alert);
          ctx.state.delivered++;
          return;
        } catch (error) {
          lastError = error;
          if (attempt < deps.retries) await sleep(deps.retryDelayMs * 2 ** attempt);
        }
      }
      ctx.state.failed++;
      deps.onFailure(deps.delivery.name, alert, lastError);
    },
  };
}
