import type { AlertNotification } from "../../messages/alert.ts";
import type { Props } from "../../supervisor/actor.ts";

/**
 * alert/<channel>: one actor per delivery channel (websocket, file, webhook, email, sms,
 * alertmanager). Delivery is the channel's I/O, awaited, so a slow or dead channel only slows
 * its own mailbox. A failed delivery is retried with exponential back-off and jitter
 * (`retry.minMs * 2^attempt`, at most `retry.maxMs`); after `retry.attempts` it is undeliverable:
 * handed to `onUndeliverable` (the node writes it to `ops.alerts.dlq` with the reason), never
 * thrown at the router. The mailbox drops the oldest notifications past its capacity, counted,
 * so a channel that is down for hours holds bounded memory.
 */
export type AlertChannelMessage = { readonly type: "deliver"; readonly notification: AlertNotification };

/** a channel's way out (sinks/alert-deliveries.ts and the files beside it) */
export interface AlertDelivery {
  readonly name: string;
  deliver(notification: AlertNotification): Promise<void> | void;
}

export interface AlertChannelState {
  delivered: number;
  retried: number;
  undeliverable: number;
}

export interface RetryPolicy {
  /** attempts in all, the first included */
  readonly attempts: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** 0..1: the share of each delay that is random */
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, minMs: 200, maxMs: 10_000, jitter: 0.2 };

export interface AlertChannelDeps {
  readonly delivery: AlertDelivery;
  readonly retry?: RetryPolicy;
  readonly onUndeliverable: (channel: string, notification: AlertNotification, error: unknown) => void;
  readonly onDelivered?: (channel: string, notification: AlertNotification) => void;
  /** injectable for tests: how to wait between attempts */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly mailboxCapacity?: number;
}

export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.minMs * 2 ** attempt);
  return Math.round(base * (1 - policy.jitter + policy.jitter * random()));
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function alertChannelProps(deps: AlertChannelDeps): Props<AlertChannelMessage, AlertChannelState> {
  const retry = deps.retry ?? DEFAULT_RETRY;
  const sleep = deps.sleep ?? sleepFor;
  const random = deps.random ?? Math.random;
  return {
    kind: "alert",
    mailbox: { capacity: deps.mailboxCapacity ?? 1000, overflow: "drop-oldest" },
    initialState: (_key, snapshot) => snapshot ?? { delivered: 0, retried: 0, undeliverable: 0 },
    async receive(ctx, { notification }) {
      let lastError: unknown;
      for (let attempt = 0; attempt < retry.attempts; attempt++) {
        if (attempt > 0) {
          ctx.state.retried++;
          await sleep(backoffDelay(retry, attempt - 1, random));
        }
        try {
          await deps.delivery.deliver(notification);
          ctx.state.delivered++;
          deps.onDelivered?.(deps.delivery.name, notification);
          return;
        } catch (error) {
          lastError = error;
        }
      }
      ctx.state.undeliverable++;
      deps.onUndeliverable(deps.delivery.name, notification, lastError);
    },
  };
}
