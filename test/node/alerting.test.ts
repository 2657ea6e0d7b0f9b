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
    const { rules, deliveries, routing } = await alertingOf(testNodeConfig(dir), new FeedHub());
    expect(rules.map((r) => r.name)).toContain("sensor-anomaly");
    expect(routing.receivers.has("page")).toBe(true);
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

  test("SMTP, SMS and Alertmanager settings add the email and sms channels and the push", async () => {
    const alerting = await alertingOf(
      testNodeConfig(dir, {
        smtpUrl: "smtp://127.0.0.1:2525",
        alertEmailTo: "ops@city.test, oncall@city.test",
        smsProviderUrl: "http://127.0.0.1:9/sms",
        smsTo: "+100",
        alertmanagerUrl: "http://127.0.0.1:9193",
      }),
      new FeedHub(),
    );
    expect(alerting.deliveries.map((d) => d.name)).toEqual(["websocket", "file", "email", "sms"]);
    expect(alerting.alertmanager?.name).toBe("alertmanager");
    alerting.close();
  });

  test.each([
    ["SMTP without recipients", { smtpUrl: "smtp://127.0.0.1:2525" }, "ALERT_EMAIL_TO"],
    ["SMS without recipients", { smsProviderUrl: "http://127.0.0.1:9/sms" }, "SMS_TO"],
    [
      "a routes file naming an unknown receiver",
      {
        alertRoutesFile: file(
          "routes.json",
          JSON.stringify({ route: { receiver: "x" }, receivers: [{ name: "y" }] }),
        ),
      },
      "not defined",
    ],
  ])("%s stops the start with CONFIG_INVALID", async (_name, overrides, why) => {
    try {
      await alertingOf(testNodeConfig(dir, overrides), new FeedHub());
      throw new Error("expected a refusal");
    } catch (error) {
      expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toContain(why);
    }
  });

  test("a silence survives a restart of the node's alerting", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alerting-silences-"));
    const first = await alertingOf(testNodeConfig(dataDir), new FeedHub());
    const silence = first.silences.create(
      {
        matchers: [{ name: "alertname", value: "disk-low", isRegex: false, isEqual: true }],
        startsAt: Date.now(),
        endsAt: Date.now() + 3_600_000,
        createdBy: "ops",
        comment: "disk swap",
      },
      Date.now(),
    );
    await first.flushed();
    const second = await alertingOf(testNodeConfig(dataDir), new FeedHub());
    expect(second.silences.get(silence.id)).toEqual(silence);
    expect(second.silences.mutedBy({ alertname: "disk-low" }, Date.now())).toEqual([silence.id]);
  });

  test("a damaged silences file stops the start instead of dropping the silences", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alerting-silences-"));
    writeFileSync(join(dataDir, "alert-silences.json"), "[{broken");
    try {
      await alertingOf(testNodeConfig(dataDir), new FeedHub());
      throw new Error("expected a refusal");
    } catch (error) {
      expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toContain("damaged");
    }
  });
});
