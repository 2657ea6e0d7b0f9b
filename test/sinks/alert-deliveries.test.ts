import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeedHub } from "../../api/feeds/feed-hub.ts";
import { isPlatformError } from "../../messages/errors.ts";
import { feedDelivery, fileDelivery, webhookDelivery } from "../../sinks/alert-deliveries.ts";
import { ZERO_TIME } from "../../sinks/alertmanager-webhook-v4.ts";
import { testAlert, testNotification } from "./alert-fixture.ts";

/** the webhook's receiving end: a local server that records what it is sent and answers `status` */
function webhookReceiver(status = 200) {
  const bodies: unknown[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      bodies.push(await request.json());
      return new Response(null, { status });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook?token=s3cret`, bodies, stop: () => server.stop(true) };
}

describe("alert deliveries", () => {
  const receivers: { stop(): unknown }[] = [];
  afterAll(() => {
    for (const r of receivers) r.stop();
  });

  test("the webhook sends Alertmanager's payload version 4", async () => {
    const receiver = webhookReceiver();
    receivers.push(receiver);
    const firing = testAlert({ node: "n1" });
    const resolved = testAlert({ node: "n2" }, { status: "resolved" });
    await webhookDelivery(receiver.url, { externalURL: "http://node:3000" }).deliver(
      testNotification([firing, resolved]),
    );
    expect(receiver.bodies).toEqual([
      {
        version: "4",
        groupKey: '0.0:{alertname="worker-crashed"}',
        truncatedAlerts: 0,
        status: "firing",
        receiver: "page",
        groupLabels: { alertname: "worker-crashed" },
        commonLabels: { alertname: "worker-crashed" },
        commonAnnotations: {},
        externalURL: "http://node:3000",
        alerts: [
          {
            status: "firing",
            labels: firing.labels,
            annotations: firing.annotations,
            startsAt: "1970-01-01T00:00:01.000Z",
            endsAt: ZERO_TIME,
            generatorURL: "http://node:3000/api/alerts",
            fingerprint: firing.fingerprint,
          },
          {
            status: "resolved",
            labels: resolved.labels,
            annotations: resolved.annotations,
            startsAt: "1970-01-01T00:00:01.000Z",
            endsAt: "1970-01-01T00:00:05.000Z",
            generatorURL: "http://node:3000/api/alerts",
            fingerprint: resolved.fingerprint,
          },
        ],
      },
    ]);
  });

  test.each([
    ["answers HTTP 500", 500, "answered HTTP 500"],
    ["answers HTTP 404", 404, "answered HTTP 404"],
  ])(
    "a webhook that %s fails the delivery with WEBHOOK_FAILED, without its token",
    async (_name, status, why) => {
      const receiver = webhookReceiver(status);
      receivers.push(receiver);
      const error = await Promise.resolve(
        webhookDelivery(receiver.url).deliver(testNotification([testAlert({})])),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPlatformError(error, "WEBHOOK_FAILED")).toBe(true);
      expect((error as Error).message).toContain(why);
      expect((error as Error).message).not.toContain("s3cret");
    },
  );

  test("a webhook nobody listens on fails with WEBHOOK_FAILED", async () => {
    const receiver = webhookReceiver();
    const url = receiver.url;
    await receiver.stop();
    const error = await Promise.resolve(
      webhookDelivery(url, { timeoutMs: 2000 }).deliver(testNotification([testAlert({})])),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error, "WEBHOOK_FAILED")).toBe(true);
    expect((error as Error).message).toContain("unreachable");
  });

  test("the file gets one notification a line", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "alert-file-")), "nested", "alerts.jsonl");
    const file = fileDelivery(path);
    await file.deliver(testNotification([testAlert({ node: "a" })]));
    await file.deliver(testNotification([testAlert({ node: "b" })]));
    const lines = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((n) => n.alerts[0].labels.node)).toEqual(["a", "b"]);
  });

  test("the WebSocket feed gets each alert of a notification", async () => {
    const feeds = new FeedHub();
    const sent: string[] = [];
    const id = feeds.connect({
      send: (text) => sent.push(text),
      bufferedAmount: () => 0,
      close: () => undefined,
      terminate: () => undefined,
    });
    feeds.control(id, JSON.stringify({ op: "subscribe", feeds: ["alerts"] }));
    await feedDelivery(feeds).deliver(testNotification([testAlert({ node: "a" }), testAlert({ node: "b" })]));
    const alerts = sent.map((t) => JSON.parse(t)).filter((m) => m.feed === "alerts");
    expect(alerts.map((m) => m.data.labels.node)).toEqual(["a", "b"]);
  });
});
