import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isPlatformError } from "../../messages/errors.ts";
import { emailSubject, smtpDelivery } from "../../sinks/smtp-delivery.ts";
import { type SmtpSink, startSmtpSink } from "../../testkit/smtp-sink.ts";
import { testAlert, testNotification } from "./alert-fixture.ts";

describe("email over SMTP, against a local SMTP sink", () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());

  test("a notification is one mail to every recipient with the alerts in its body", async () => {
    const email = smtpDelivery({
      url: sink.url,
      from: "alerts@city.test",
      to: ["ops@city.test", "oncall@city.test"],
    });
    const before = sink.received.length;
    await email.deliver(
      testNotification([testAlert({ node: "n1" }), testAlert({ node: "n2" }, { status: "resolved" })]),
    );
    email.close();
    const [mail] = sink.received.slice(before);
    expect(mail?.from).toBe("alerts@city.test");
    expect(mail?.to).toEqual(["ops@city.test", "oncall@city.test"]);
    expect(mail?.data).toContain("Subject: [FIRING:1] alertname=worker-crashed");
    expect(mail?.data).toContain("FIRING worker-crashed (critical)");
    expect(mail?.data).toContain("RESOLVED worker-crashed (critical)");
    expect(mail?.data).toContain("node=n2");
  });

  test("a resolved group's subject says so", () => {
    expect(emailSubject(testNotification([testAlert({}, { status: "resolved" })]))).toBe(
      "[RESOLVED] alertname=worker-crashed",
    );
  });

  test("a server that refuses the mail fails the delivery with its reply code, not the password", async () => {
    const url = `smtp://alerts:hunter2@127.0.0.1:${sink.port}`;
    const email = smtpDelivery({ url, from: "alerts@city.test", to: ["ops@city.test"] });
    sink.failNext(1, 451);
    const error = await Promise.resolve(email.deliver(testNotification([testAlert({})]))).then(
      () => undefined,
      (e: unknown) => e,
    );
    email.close();
    expect(isPlatformError(error, "ALERT_DELIVERY_FAILED")).toBe(true);
    expect((error as Error).message).toContain("451");
    expect((error as Error).message).not.toContain("hunter2");
  });

  test("a server that is not there fails the delivery", async () => {
    const closed = await startSmtpSink();
    await closed.close();
    const email = smtpDelivery({ url: closed.url, from: "a@b.c", to: ["d@e.f"], timeoutMs: 2000 });
    const error = await Promise.resolve(email.deliver(testNotification([testAlert({})]))).then(
      () => undefined,
      (e: unknown) => e,
    );
    email.close();
    expect(isPlatformError(error, "ALERT_DELIVERY_FAILED")).toBe(true);
  });

  test.each([["http://mail.example:25"], ["not a url"]])(
    "SMTP_URL %s is refused as CONFIG_INVALID",
    (url) => {
      expect(() => smtpDelivery({ url, from: "a@b.c", to: ["d@e.f"] })).toThrow("CONFIG_INVALID");
    },
  );
});
