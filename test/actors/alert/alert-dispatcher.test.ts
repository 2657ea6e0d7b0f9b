import { describe, expect, test } from "bun:test";
import { AlertDispatcher } from "../../../actors/alert/alert-dispatcher.ts";
import { parseAlertRouting } from "../../../actors/alert/route-tree.ts";
import { Silences } from "../../../alerting/silences.ts";
import type { Alert, AlertNotification } from "../../../messages/alert.ts";
import { testAlert } from "../../sinks/alert-fixture.ts";

/**
 * The dispatcher with the clock in the test's hand: every timing is a number passed in, so
 * group_wait, group_interval and repeat_interval are checked to the millisecond.
 */
const routing = (inhibit_rules: unknown[] = []) =>
  parseAlertRouting({
    route: {
      receiver: "team",
      group_by: ["alertname"],
      group_wait: 1000,
      group_interval: 5000,
      repeat_interval: 60_000,
      routes: [{ matchers: ['severity="critical"'], receiver: "page", group_wait: 0, continue: true }],
    },
    receivers: [
      { name: "team", channels: ["file"] },
      { name: "page", channels: ["sms"] },
    ],
    inhibit_rules,
  });

function setup(options: { inhibit?: unknown[]; firing?: Alert[] } = {}) {
  const silences = new Silences();
  const firing = options.firing ?? [];
  const dispatcher = new AlertDispatcher(routing(options.inhibit), silences, () => firing);
  return { dispatcher, silences, firing };
}

const warn = (node: string, overrides: Partial<Alert> = {}) =>
  testAlert({ alertname: "consumer-lag", severity: "warning", node }, overrides);
const nodesOf = (n: AlertNotification | undefined) => n?.alerts.map((a) => `${a.labels.node}:${a.status}`);

describe("aggregation groups and the notification pipeline", () => {
  test("a group's first notification waits group_wait and carries every alert that arrived meanwhile", () => {
    const { dispatcher } = setup();
    expect(dispatcher.insert(warn("n1"), 0)).toEqual([]);
    expect(dispatcher.insert(warn("n2"), 400)).toEqual([]);
    expect(dispatcher.due(999)).toEqual([]);
    const [first] = dispatcher.due(1000);
    expect(first?.receiver).toBe("team");
    expect(first?.groupLabels).toEqual({ alertname: "consumer-lag" });
    expect(nodesOf(first)).toEqual(["n1:firing", "n2:firing"]);
    expect(first?.commonLabels).toMatchObject({ alertname: "consumer-lag", severity: "warning" });
    expect(first?.commonLabels.node).toBeUndefined();
  });

  test("group_wait 0 sends at once, and the root does not also take what a child took", () => {
    const { dispatcher } = setup();
    const sent = dispatcher.insert(testAlert({ node: "n1" }), 0);
    expect(sent.map((n) => n.receiver)).toEqual(["page"]);
    expect(dispatcher.due(1000)).toEqual([]);
  });

  test("later changes go out at the next group_interval, not before", () => {
    const { dispatcher } = setup();
    dispatcher.insert(warn("n1"), 0);
    dispatcher.due(1000);
    dispatcher.insert(warn("n2"), 1500);
    expect(dispatcher.due(5999)).toEqual([]);
    expect(nodesOf(dispatcher.due(6000)[0])).toEqual(["n1:firing", "n2:firing"]);
  });

  test("an unchanged group is not sent again until repeat_interval", () => {
    const { dispatcher } = setup();
    dispatcher.insert(warn("n1"), 0);
    expect(dispatcher.due(1000)).toHaveLength(1);
    for (let t = 6000; t < 61_000; t += 5000) expect(dispatcher.due(t)).toEqual([]);
    expect(dispatcher.due(61_000)).toHaveLength(1);
  });

  test("a resolve is sent at the next interval, then the alert leaves the group", () => {
    const { dispatcher } = setup();
    dispatcher.insert(warn("n1"), 0);
    dispatcher.insert(warn("n2"), 0);
    dispatcher.due(1000);
    dispatcher.insert(warn("n1", { status: "resolved", endsAt: 2000 }), 2000);
    const [resolved] = dispatcher.due(6000);
    expect(resolved?.status).toBe("firing");
    expect(nodesOf(resolved)).toEqual(["n1:resolved", "n2:firing"]);
    dispatcher.insert(warn("n2", { status: "resolved", endsAt: 7000 }), 7000);
    const [allResolved] = dispatcher.due(11_000);
    expect(allResolved?.status).toBe("resolved");
    expect(nodesOf(allResolved)).toEqual(["n2:resolved"]);
    expect(dispatcher.groupCount()).toBe(0);
  });

  test("an alert that fires and resolves within group_wait notifies nobody", () => {
    const { dispatcher } = setup();
    dispatcher.insert(warn("n1"), 0);
    dispatcher.insert(warn("n1", { status: "resolved", endsAt: 500 }), 500);
    expect(dispatcher.due(1000)).toEqual([]);
    expect(dispatcher.groupCount()).toBe(0);
  });

  test("a flapping alert re-fired after its resolve starts a new group and is sent again", () => {
    const { dispatcher } = setup();
    dispatcher.insert(warn("n1"), 0);
    dispatcher.due(1000);
    dispatcher.insert(warn("n1", { status: "resolved", endsAt: 2000 }), 2000);
    dispatcher.due(6000);
    dispatcher.insert(warn("n1", { startsAt: 7000 }), 7000);
    expect(nodesOf(dispatcher.due(8000)[0])).toEqual(["n1:firing"]);
  });

  describe("silences", () => {
    test("a silenced alert is left out while the silence is active, and sent once it expires", () => {
      const { dispatcher, silences } = setup();
      const silence = silences.create(
        {
          matchers: [{ name: "node", value: "n1", isRegex: false, isEqual: true }],
          startsAt: 0,
          endsAt: 30_000,
          createdBy: "ops",
          comment: "maintenance",
        },
        0,
      );
      dispatcher.insert(warn("n1"), 0);
      dispatcher.insert(warn("n2"), 0);
      expect(nodesOf(dispatcher.due(1000)[0])).toEqual(["n2:firing"]);
      expect(dispatcher.muteState(warn("n1"), 1000).silencedBy).toEqual([silence.id]);
      silences.expire(silence.id, 20_000);
      expect(nodesOf(dispatcher.due(21_000)[0])).toEqual(["n1:firing", "n2:firing"]);
    });

    test("a group whose every alert is silenced sends nothing", () => {
      const { dispatcher, silences } = setup();
      silences.create(
        {
          matchers: [{ name: "alertname", value: "consumer-.*", isRegex: true, isEqual: true }],
          startsAt: 0,
          endsAt: 30_000,
          createdBy: "ops",
          comment: "known",
        },
        0,
      );
      dispatcher.insert(warn("n1"), 0);
      expect(dispatcher.due(1000)).toEqual([]);
      expect(dispatcher.muted).toBe(1);
    });
  });

  describe("inhibition", () => {
    const nodeDown = (node: string) => testAlert({ alertname: "worker-crashed", severity: "critical", node });
    const inhibit = [
      {
        source_matchers: ['alertname="worker-crashed"'],
        target_matchers: ['alertname="consumer-lag"'],
        equal: ["node"],
      },
    ];
    test.each([
      ["a firing source on the same node mutes the symptom", [nodeDown("n1")], "n1", true],
      ["a source on another node does not", [nodeDown("n2")], "n1", false],
      ["a resolved source does not", [testAlert({ node: "n1" }, { status: "resolved" })], "n1", false],
      ["no source, no inhibition", [], "n1", false],
    ] as const)("%s", (_name, firing, node, inhibited) => {
      const { dispatcher } = setup({ inhibit, firing: [...firing] });
      dispatcher.insert(warn(node), 0);
      const sent = dispatcher.due(1000);
      expect(sent.length).toBe(inhibited ? 0 : 1);
      expect(dispatcher.muteState(warn(node), 1000).inhibitedBy !== undefined).toBe(inhibited);
    });

    test("an alert that matches both sides of a rule does not inhibit itself", () => {
      const self = testAlert({ alertname: "x", severity: "critical" });
      const { dispatcher } = setup({
        inhibit: [{ source_matchers: ['alertname="x"'], target_matchers: ['alertname="x"'] }],
        firing: [self],
      });
      expect(dispatcher.muteState(self, 0).inhibitedBy).toBeUndefined();
    });
  });

  test("a notification carries at most maxAlertsPerNotification alerts and counts the rest", () => {
    const dispatcher = new AlertDispatcher(routing(), new Silences(), () => [], {
      maxAlertsPerNotification: 3,
    });
    for (let i = 0; i < 10; i++) dispatcher.insert(warn(`n${i}`), 0);
    const [n] = dispatcher.due(1000);
    expect(n?.alerts).toHaveLength(3);
    expect(n?.truncatedAlerts).toBe(7);
  });

  test("past maxGroups an alert for a new group is refused and counted, old groups go on", () => {
    const dispatcher = new AlertDispatcher(
      parseAlertRouting({
        route: { receiver: "r", group_by: ["node"], group_wait: 0 },
        receivers: [{ name: "r" }],
      }),
      new Silences(),
      () => [],
      { maxGroups: 5 },
    );
    for (let i = 0; i < 8; i++) dispatcher.insert(warn(`n${i}`), 0);
    expect(dispatcher.groupCount()).toBe(5);
    expect(dispatcher.refused).toBe(3);
  });
});
