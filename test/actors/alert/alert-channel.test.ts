import { afterEach, describe, expect, test } from "bun:test";
import {
  type AlertDelivery,
  alertChannelProps,
  backoffDelay,
  type RetryPolicy,
} from "../../../actors/alert/alert-channel.ts";
import type { AlertNotification } from "../../../messages/alert.ts";
import { type ActorSystem, createActorSystem } from "../../../supervisor/index.ts";
import { testAlert, testNotification } from "../../sinks/alert-fixture.ts";

const retry: RetryPolicy = { attempts: 4, minMs: 100, maxMs: 250, jitter: 0 };

/** a channel that fails its first `failures` deliveries, as a server that is down and comes back */
function flakyChannel(
  failures: number,
): AlertDelivery & { attempts: number; delivered: AlertNotification[] } {
  const channel = {
    name: "webhook",
    attempts: 0,
    delivered: [] as AlertNotification[],
    deliver(notification: AlertNotification) {
      channel.attempts++;
      if (channel.attempts <= failures) throw new Error(`down (attempt ${channel.attempts})`);
      channel.delivered.push(notification);
    },
  };
  return channel;
}

describe("an alert channel actor", () => {
  let system: ActorSystem;
  afterEach(() => system.stop());

  function start(delivery: AlertDelivery) {
    system = createActorSystem({ name: "channel-test" });
    const waits: number[] = [];
    const deadLetters: { channel: string; notification: AlertNotification; error: unknown }[] = [];
    const ref = system.spawn(
      alertChannelProps({
        delivery,
        retry,
        // the back-off is recorded, not slept: the test controls time
        sleep: async (ms) => {
          waits.push(ms);
        },
        onUndeliverable: (channel, notification, error) => deadLetters.push({ channel, notification, error }),
      }),
      delivery.name,
    );
    return { ref, waits, deadLetters };
  }

  test("a channel that comes back within the retries delivers, after exponential back-off", async () => {
    const channel = flakyChannel(2);
    const { ref, waits, deadLetters } = start(channel);
    ref.tell({ type: "deliver", notification: testNotification([testAlert({})]) });
    await system.drain(5000);
    expect(channel.delivered).toHaveLength(1);
    expect(waits).toEqual([100, 200]);
    expect(deadLetters).toEqual([]);
  });

  test("a channel that is down: every attempt fails, the back-off is capped, then one dead letter with the reason", async () => {
    const channel = flakyChannel(Number.POSITIVE_INFINITY);
    const { ref, waits, deadLetters } = start(channel);
    const notification = testNotification([testAlert({})]);
    ref.tell({ type: "deliver", notification });
    await system.drain(5000);
    expect(channel.attempts).toBe(4);
    expect(waits).toEqual([100, 200, 250]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ channel: "webhook", notification });
    expect(String(deadLetters[0]?.error)).toContain("down (attempt 4)");
  });

  test("a dead channel does not stop the next notifications, each is tried and dead-lettered in order", async () => {
    const channel = flakyChannel(Number.POSITIVE_INFINITY);
    const { ref, deadLetters } = start(channel);
    for (const node of ["n1", "n2", "n3"])
      ref.tell({ type: "deliver", notification: testNotification([testAlert({ node })]) });
    await system.drain(5000);
    expect(deadLetters.map((d) => d.notification.alerts[0]?.labels.node)).toEqual(["n1", "n2", "n3"]);
  });

  test.each([
    [0, 0, 100],
    [1, 0, 200],
    [5, 0, 250],
    [0, 0.5, 75],
    [0, 1, 50],
  ])("attempt %d with jitter %d and random 0.5 waits %d ms", (attempt, jitter, expected) => {
    expect(backoffDelay({ ...retry, jitter }, attempt, () => 0.5)).toBe(expected);
  });
});
