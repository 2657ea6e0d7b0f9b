import { afterEach, describe, expect, test } from "bun:test";
import type { AlertChannelMessage } from "../../../actors/alert/alert-channel.ts";
import {
  type AlertRouterMessage,
  type AlertStatusView,
  alertRouterProps,
} from "../../../actors/alert/alert-router.ts";
import { parseAlertRules } from "../../../actors/alert/alert-rules.ts";
import { parseAlertRouting } from "../../../actors/alert/route-tree.ts";
import { Silences } from "../../../alerting/silences.ts";
import type { Alert, AlertNotification } from "../../../messages/alert.ts";
import type { ActorRef, Props } from "../../../supervisor/actor.ts";
import { type ActorSystem, createActorSystem } from "../../../supervisor/index.ts";

/**
 * The router actor in an actor system whose clock the test holds: samples go in, ticks are sent
 * by the test (the router's own timer is set far out), and the channels are recording actors.
 */
const rules = parseAlertRules([
  {
    name: "worker-crashed",
    category: "system",
    metric: "worker_crashes",
    comparison: "greater_than",
    threshold: 0,
    severity: "critical",
    message_template: "{value} crashes on {node}",
  },
  {
    name: "consumer-lag",
    category: "system",
    metric: "consumer_lag_records",
    comparison: "greater_than",
    threshold: 1000,
    severity: "warning",
    for: "10s",
    message_template: "lag {value} on {node}",
  },
]);

const routing = parseAlertRouting({
  route: {
    receiver: "team",
    group_by: ["alertname", "node"],
    group_wait: "2s",
    group_interval: "10s",
    routes: [{ matchers: ['severity="critical"'], receiver: "page", group_wait: 0 }],
  },
  receivers: [
    { name: "team", channels: ["file"] },
    { name: "page", channels: ["sms", "file"] },
  ],
  inhibit_rules: [
    {
      source_matchers: ['alertname="worker-crashed"'],
      target_matchers: ['alertname="consumer-lag"'],
      equal: ["node"],
    },
  ],
});

function recorder(): Props<AlertChannelMessage, AlertNotification[]> {
  return { kind: "alert", initialState: () => [], receive: (ctx, m) => void ctx.state.push(m.notification) };
}

describe("the alert router actor", () => {
  let system: ActorSystem;
  afterEach(() => system.stop());

  function start() {
    let now = 0;
    system = createActorSystem({ name: "router-test", clock: () => now });
    const received: Record<string, AlertNotification[]> = { sms: [], file: [], alertmanager: [] };
    const channel = (name: string): ActorRef<AlertChannelMessage> => ({
      address: `alert/${name}`,
      tell: (m) => {
        received[name]?.push(m.notification);
        return true;
      },
      offer: async (m) => {
        received[name]?.push(m.notification);
      },
    });
    const changes: Alert[] = [];
    let read: () => AlertStatusView[] = () => [];
    const router: ActorRef<AlertRouterMessage> = system.spawn(
      alertRouterProps({
        rules,
        routing,
        silences: new Silences(),
        channels: () =>
          new Map([
            ["sms", channel("sms")],
            ["file", channel("file")],
          ]),
        alertmanager: channel("alertmanager"),
        onAlert: (alert) => changes.push(alert),
        onStarted: (r) => {
          read = r;
        },
        tickMs: 3_600_000,
        resendMs: 60_000,
      }),
      "main",
    );
    const at = async (time: number, ...messages: AlertRouterMessage[]) => {
      now = time;
      for (const m of messages) router.tell(m);
      await system.drain(5000);
    };
    const sample = (metric: string, value: number, node = "n1"): AlertRouterMessage => ({
      type: "sample",
      sample: { metric, value, labels: { node }, at: now },
    });
    return { received, changes, at, sample, active: () => read(), recorder };
  }

  test("a crash fires, pages at once, is pushed to Alertmanager, and resolves when the crashes stop", async () => {
    const { received, changes, at, sample } = start();
    await at(1000, sample("worker_crashes", 1));
    expect(changes.map((a) => `${a.rule}:${a.status}`)).toEqual(["worker-crashed:firing"]);
    expect(received.sms.map((n) => n.status)).toEqual(["firing"]);
    expect(received.file).toHaveLength(1);
    expect(received.alertmanager.map((n) => n.alerts[0]?.status)).toEqual(["firing"]);

    await at(5000, sample("worker_crashes", 0));
    expect(changes.map((a) => a.status)).toEqual(["firing", "resolved"]);
    // the resolve goes out at the group's next interval
    await at(10_999, { type: "tick" });
    expect(received.sms).toHaveLength(1);
    await at(11_000, { type: "tick" });
    expect(received.sms.map((n) => n.status)).toEqual(["firing", "resolved"]);
    expect(received.alertmanager.map((n) => n.alerts[0]?.status)).toEqual(["firing", "resolved"]);
  });

  test("a lag that holds for its `for` fires on a tick; a crash on the same node inhibits it", async () => {
    const { received, active, at, sample } = start();
    await at(0, sample("consumer_lag_records", 5000));
    expect(active().map((a) => a.state)).toEqual(["pending"]);
    await at(10_000, { type: "tick" });
    expect(active().map((a) => a.state)).toEqual(["firing"]);
    await at(12_000, { type: "tick" });
    expect(received.file.map((n) => n.alerts[0]?.labels.alertname)).toEqual(["consumer-lag"]);

    // node n2: the crash comes first, its lag fires later and is inhibited
    await at(20_000, sample("worker_crashes", 1, "n2"), sample("consumer_lag_records", 5000, "n2"));
    await at(30_000, { type: "tick" }, sample("consumer_lag_records", 5000, "n2"));
    await at(40_000, { type: "tick" });
    const lagN2 = active().find(
      (a) => a.alert.labels.alertname === "consumer-lag" && a.alert.labels.node === "n2",
    );
    expect(lagN2?.state).toBe("firing");
    expect(lagN2?.inhibitedBy).toBeDefined();
    expect(
      received.file
        .flatMap((n) => n.alerts)
        .filter((a) => a.labels.node === "n2")
        .map((a) => a.labels.alertname),
    ).toEqual(["worker-crashed"]);
  });

  test("firing alerts are resent to Alertmanager every resend interval, so they do not expire there", async () => {
    const { received, at, sample } = start();
    await at(1000, sample("worker_crashes", 1));
    await at(60_000, { type: "tick" });
    await at(90_000, { type: "tick" });
    await at(120_000, { type: "tick" });
    expect(received.alertmanager).toHaveLength(3);
    expect(received.alertmanager.every((n) => n.alerts[0]?.status === "firing")).toBe(true);
  });

  test("a resend of many firing alerts goes to Alertmanager in bounded batches", async () => {
    const { received, at, sample } = start();
    await at(1000, ...Array.from({ length: 1200 }, (_, i) => sample("worker_crashes", 1, `n${i}`)));
    received.alertmanager.length = 0;
    await at(60_000, { type: "tick" });
    expect(received.alertmanager.map((n) => n.alerts.length)).toEqual([500, 500, 200]);
  });
});
