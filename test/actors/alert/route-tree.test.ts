import { describe, expect, test } from "bun:test";
import {
  DEFAULT_ALERT_ROUTING,
  groupLabelsOf,
  matchRoutes,
  parseAlertRouting,
} from "../../../actors/alert/route-tree.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import { testAlert } from "../../sinks/alert-fixture.ts";

const routing = parseAlertRouting({
  route: {
    receiver: "default",
    group_by: ["alertname"],
    group_wait: "30s",
    routes: [
      { matchers: ['severity="critical"'], receiver: "page", group_wait: "5s", continue: true },
      { matchers: ['category=~"data|model"'], receiver: "data-team", group_by: ["..."] },
      {
        matchers: ['team="db"'],
        receiver: "db",
        routes: [{ matchers: ['env!="prod"'], receiver: "db-dev" }],
      },
    ],
  },
  receivers: [
    { name: "default", channels: ["websocket", "file"] },
    { name: "page", channels: ["sms", "email"] },
    { name: "data-team", channels: ["webhook"] },
    { name: "db", channels: ["email"] },
    { name: "db-dev", channels: ["file"] },
  ],
});

describe("the routing tree (Alertmanager's route semantics)", () => {
  test.each([
    ["no child matches: the root takes it", { severity: "warning" }, ["default"]],
    ["the first matching child takes it", { severity: "warning", category: "data" }, ["data-team"]],
    [
      "`continue` lets the next matching siblings take it too",
      { severity: "critical", category: "model" },
      ["page", "data-team"],
    ],
    ["`continue` with no further match: only that child", { severity: "critical" }, ["page"]],
    [
      "a nested child that matches takes it from its parent",
      { severity: "warning", team: "db", env: "dev" },
      ["db-dev"],
    ],
    [
      "a parent keeps it when no nested child matches",
      { severity: "warning", team: "db", env: "prod" },
      ["db"],
    ],
    ["a regex matcher is anchored", { severity: "warning", category: "database" }, ["default"]],
  ])("%s", (_name, labels, receivers) => {
    const alert = testAlert(labels);
    expect(matchRoutes(routing.root, alert.labels).map((r) => r.receiver)).toEqual(receivers);
  });

  test("children inherit what they do not set", () => {
    const [page] = matchRoutes(routing.root, testAlert({ severity: "critical" }).labels);
    expect(page).toMatchObject({
      groupWaitMs: 5000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 4 * 3_600_000,
    });
    expect(page?.groupBy).toEqual(["alertname"]);
  });

  test("group_by ... groups by every label", () => {
    const alert = testAlert({ severity: "warning", category: "data", node: "n1" });
    const [route] = matchRoutes(routing.root, alert.labels);
    expect(groupLabelsOf(route!, alert)).toEqual(alert.labels);
  });

  test("the built-in routing pages critical alerts and inhibits a crashed worker's symptoms", () => {
    const critical = testAlert({ severity: "critical" });
    expect(matchRoutes(DEFAULT_ALERT_ROUTING.root, critical.labels).map((r) => r.receiver)).toEqual(["page"]);
    expect(DEFAULT_ALERT_ROUTING.receivers.get("page")).toContain("sms");
    expect(DEFAULT_ALERT_ROUTING.inhibitRules.length).toBeGreaterThan(0);
  });

  test.each([
    [{ route: { receiver: "nobody" }, receivers: [{ name: "x" }] }, "not defined"],
    [{ route: { receiver: "x", matchers: ["a=b"] }, receivers: [{ name: "x" }] }, "root route"],
    [
      { route: { receiver: "x", routes: [{ matchers: ["bad matcher"] }] }, receivers: [{ name: "x" }] },
      "not a matcher",
    ],
    [
      { route: { receiver: "x", routes: [{ matchers: ['a=~"("'] }] }, receivers: [{ name: "x" }] },
      "not a valid regex",
    ],
    [{ route: { receiver: "x", group_wait: "soon" }, receivers: [{ name: "x" }] }, "not a duration"],
    [{ route: { receiver: "x" }, receivers: [{ name: "x", channels: ["pager"] }] }, "channels"],
    [{ route: { receiver: "x" }, receivers: [] }, "receivers"],
  ])("an invalid routing is refused with CONFIG_INVALID saying why (%#)", (input, why) => {
    try {
      parseAlertRouting(input);
      throw new Error("expected a refusal");
    } catch (error) {
      expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toContain(why);
    }
  });
});
