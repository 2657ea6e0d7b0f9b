import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import type { WebhookPayloadV4 } from "../../sinks/alertmanager-webhook-v4.ts";
import {
  alertmanagerAlerts,
  alertmanagerUrl,
  requireAlertmanager,
  skipAlertmanager,
} from "../../testkit/alertmanager.ts";
import { type SmtpSink, startSmtpSink } from "../../testkit/smtp-sink.ts";
import { eventually, startTestNode } from "./node-fixture.ts";

/**
 * A whole node with two Bun workers, the real Alertmanager (infra/up.sh), a local SMTP sink and a
 * webhook receiver of the test's own: a worker is killed, the worker-crashed alert fires from the node's own
 * signals, is pushed to Alertmanager (found there by its labels through /api/v2/alerts) and sent
 * to the webhook as payload v4 and by email; when the crash leaves its window the alert resolves in both.
 * An SMS provider that is down leaves its notifications, with the reason, in ops.alerts.dlq.
 * Then a silence created through the API keeps the next crash from the webhook while
 * GET /api/alerts/active shows the alert as silenced.
 */
describe.skipIf(skipAlertmanager)(
  "a node whose worker is killed raises a system alert that reaches Alertmanager and resolves",
  () => {
    let node: RunningNode;
    let cleanup: () => Promise<void>;
    const hooks: WebhookPayloadV4[] = [];
    const receiver = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        hooks.push((await request.json()) as WebhookPayloadV4);
        return new Response(null, { status: 200 });
      },
    });
    const dir = mkdtempSync(join(tmpdir(), "alerting-node-"));
    let nodeLabel = "";
    let smtp: SmtpSink;

    const amAlerts = () => alertmanagerAlerts('alertname="worker-crashed"', `node="${nodeLabel}"`);
    const hookStatuses = () =>
      hooks.flatMap((h) => h.alerts.filter((a) => a.labels.node === nodeLabel).map((a) => a.status));

    beforeAll(async () => {
      await requireAlertmanager();
      smtp = await startSmtpSink();
      const rulesFile = join(dir, "rules.json");
      writeFileSync(
        rulesFile,
        JSON.stringify([
          {
            name: "worker-crashed",
            category: "system",
            metric: "worker_crashes",
            comparison: "greater_than",
            threshold: 0,
            severity: "critical",
            message_template: "{value} worker crash(es) on {node}",
          },
        ]),
      );
      const routesFile = join(dir, "routes.json");
      writeFileSync(
        routesFile,
        JSON.stringify({
          route: { receiver: "page", group_by: ["alertname", "node"], group_wait: 0, group_interval: "1s" },
          receivers: [{ name: "page", channels: ["webhook", "file", "email", "sms"] }],
        }),
      );
      ({ node, cleanup } = await startTestNode({
        workers: 2,
        partitions: 4,
        alertRulesFile: rulesFile,
        alertRoutesFile: routesFile,
        alertWebhookUrl: `http://127.0.0.1:${receiver.port}/hook`,
        alertmanagerUrl: alertmanagerUrl,
        alertResendMs: 1000,
        alertCrashWindowMs: 4000,
        smtpUrl: smtp.url,
        alertEmailTo: "oncall@city.test",
        // an SMS provider that is down: its notifications end in ops.alerts.dlq
        smsProviderUrl: "http://127.0.0.1:9/sms",
        smsTo: "+100",
      }));
      nodeLabel = new URL(node.apiUrl).host;
    });

    afterAll(async () => {
      await cleanup?.();
      receiver.stop(true);
      await smtp?.close();
    });

    test("the crash fires in Alertmanager and at the webhook, then resolves in both", async () => {
      node.killWorker(0);
      const firing = await eventually(amAlerts, (alerts) => alerts.length === 1, 20_000);
      expect(firing[0]?.labels).toMatchObject({
        alertname: "worker-crashed",
        severity: "critical",
        node: nodeLabel,
      });
      expect((await eventually(hookStatuses, (s) => s.includes("firing"))).at(0)).toBe("firing");
      const payload = hooks.find((h) => h.alerts.some((a) => a.labels.node === nodeLabel));
      expect(payload).toMatchObject({ version: "4", status: "firing", receiver: "page" });
      expect(payload?.alerts[0]?.fingerprint).toBe(firing[0]?.fingerprint);

      // the crash leaves its 4 s window: resolved here, pushed as resolved, gone from Alertmanager
      expect(await eventually(amAlerts, (alerts) => alerts.length === 0, 20_000)).toEqual([]);
      expect(await eventually(hookStatuses, (s) => s.includes("resolved"), 20_000)).toContain("resolved");
      const file = readFileSync(join(node.config.dataDir, "alerts.jsonl"), "utf8");
      expect(file).toContain('"status":"resolved"');
      const subjects = () => smtp.received.map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1] ?? "");
      expect(await eventually(subjects, (s) => s.some((x) => x.startsWith("[RESOLVED]")))).toEqual([
        `[FIRING:1] alertname=worker-crashed node=${nodeLabel}`,
        `[RESOLVED] alertname=worker-crashed node=${nodeLabel}`,
      ]);
    });

    test("the notifications the SMS provider never took are dead letters in ops.alerts.dlq, with the reason", async () => {
      const deadLetters = async () =>
        (await node.log.read({ topic: Topics.deadLettersOf(Topics.alerts), partition: 0 })).map((r) =>
          new TextDecoder().decode(r.value ?? new Uint8Array()),
        );
      // five attempts with back-off (0.2 + 0.4 + 0.8 + 1.6 s) per notification
      const letters = await eventually(deadLetters, (l) => l.some((t) => t.includes("alert:sms")), 30_000);
      const letter = letters.find((t) => t.includes("alert:sms")) ?? "";
      expect(letter).toContain("ALERT_DELIVERY_FAILED");
      expect(letter).toContain("SMS provider at 127.0.0.1:9 unreachable");
    });

    test("a silence created through the API keeps the next crash from the webhook and shows on the alert", async () => {
      const created = await fetch(`${node.apiUrl}/api/alerts/silences`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          matchers: ['alertname="worker-crashed"', `node="${nodeLabel}"`],
          durationMs: 600_000,
          createdBy: "test",
          comment: "drill",
        }),
      });
      expect(created.status).toBe(201);
      const { silenceID } = (await created.json()) as { silenceID: string };
      const before = hookStatuses().length;
      node.killWorker(1);
      await eventually(amAlerts, (alerts) => alerts.length === 1, 20_000);
      const active = await eventually(
        async () =>
          (
            (await (await fetch(`${node.apiUrl}/api/alerts/active`)).json()) as {
              alerts: { silencedBy: string[] }[];
            }
          ).alerts,
        (alerts) => alerts.length === 1,
      );
      expect(active[0]?.silencedBy).toEqual([silenceID]);
      // two group intervals later nothing more reached the webhook
      await Bun.sleep(2500);
      expect(hookStatuses()).toHaveLength(before);
    });
  },
);
