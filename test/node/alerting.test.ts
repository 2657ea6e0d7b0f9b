import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeedHub } from "../../api/feeds/feed-hub.ts";
import { isPlatformError } from "../../messages/errors.ts";
import { alertingOf } from "../../node/alerting.ts";
import { testNodeConfig } from "./node-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "alerting-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("a node's alerting", () => {
  test("without a rules file uses the built-in rules and the feed and file channels", async () => {
    const { rules, deliveries } = await alertingOf(testNodeConfig(dir), new FeedHub());
    expect(rules.map((r) => r.name)).toContain("sensor-anomaly");
    expect(deliveries.map((d) => d.name)).toEqual(["websocket", "file"]);
  });

  test("a webhook URL adds the webhook channel, and a rules file replaces the rules", async () => {
    const rulesFile = file(
      "rules.json",
      JSON.stringify([
        {
          name: "hot",
          metric: "quality_score",
          comparison: "less_than",
          threshold: 0.5,
          severity: "critical",
          message_template: "{value}",
        },
      ]),
    );
    const { rules, deliveries } = await alertingOf(
      testNodeConfig(dir, { alertRulesFile: rulesFile, alertWebhookUrl: "http://127.0.0.1:9/hook" }),
      new FeedHub(),
    );
    expect(rules.map((r) => r.name)).toEqual(["hot"]);
    expect(deliveries.map((d) => d.name)).toEqual(["websocket", "file", "webhook"]);
  });

  test.each([
    ["a missing file", join(dir, "missing.json"), "cannot read"],
    ["a file that is not JSON", file("bad.json", "{nope"), "is not JSON"],
    ["rules that break the schema", file("invalid.json", JSON.stringify([{ name: "x" }])), "metric"],
  ])("%s stops the start with CONFIG_INVALID and says why", async (_name, path, why) => {
    try {
      await alertingOf(testNodeConfig(dir, { alertRulesFile: path }), new FeedHub());
      throw new Error("expected a refusal");
    } catch (error) {
      expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toContain(why);
    }
  });
});
