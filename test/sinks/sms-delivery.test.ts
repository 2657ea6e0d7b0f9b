import { afterAll, describe, expect, test } from "bun:test";
import { isPlatformError } from "../../messages/errors.ts";
import { jsonSmsProvider, SMS_MAX_CHARS, smsDelivery, smsText } from "../../sinks/sms-delivery.ts";
import { testAlert, testNotification } from "./alert-fixture.ts";

/**
 * The SMS provider here is the test's own HTTP server standing in for a gateway's API (the
 * receiving end, as a webhook receiver is): it records each request and can refuse numbers.
 */
function providerServer(refuse: Set<string> = new Set()) {
  const requests: { body: { from: string; to: string; text: string }; authorization: string | null }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = (await request.json()) as { from: string; to: string; text: string };
      requests.push({ body, authorization: request.headers.get("authorization") });
      return new Response(JSON.stringify({ id: requests.length }), {
        status: refuse.has(body.to) ? 503 : 200,
      });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/sms`, requests, refuse, stop: () => server.stop(true) };
}

describe("SMS through an HTTP provider", () => {
  const servers: { stop(): unknown }[] = [];
  afterAll(() => {
    for (const s of servers) s.stop();
  });

  test("each recipient gets one short text, sent with the provider's token", async () => {
    const provider = providerServer();
    servers.push(provider);
    const sms = smsDelivery(jsonSmsProvider({ url: provider.url, from: "city", token: "tok-1" }), [
      "+100",
      "+200",
    ]);
    await sms.deliver(testNotification([testAlert({ node: "n1" })]));
    expect(provider.requests.map((r) => r.body.to).sort()).toEqual(["+100", "+200"]);
    expect(provider.requests[0]?.body).toMatchObject({
      from: "city",
      text: "[FIRING:1] worker-crashed: worker-crashed on n1",
    });
    expect(provider.requests[0]?.authorization).toBe("Bearer tok-1");
  });

  test("a text longer than one SMS is cut with an ellipsis", () => {
    const long = testAlert({}, { message: "x".repeat(500) });
    const text = smsText(testNotification([long]));
    expect(text).toHaveLength(SMS_MAX_CHARS);
    expect(text.endsWith("…")).toBe(true);
  });

  test("a refused number fails the delivery, and the retry sends only to the numbers that did not get it", async () => {
    const provider = providerServer(new Set(["+200"]));
    servers.push(provider);
    const sms = smsDelivery(jsonSmsProvider({ url: provider.url, from: "city" }), ["+100", "+200"]);
    const notification = testNotification([testAlert({})]);
    const error = await Promise.resolve(sms.deliver(notification)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error, "ALERT_DELIVERY_FAILED")).toBe(true);
    provider.refuse.clear();
    await sms.deliver(notification);
    expect(provider.requests.map((r) => r.body.to)).toEqual(expect.arrayContaining(["+100", "+200", "+200"]));
    expect(provider.requests.filter((r) => r.body.to === "+100")).toHaveLength(1);
  });
});
