import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isPlatformError } from "../../messages/errors.ts";
import { alertmanagerDelivery } from "../../sinks/alertmanager-push.ts";
import {
  alertmanagerAlerts,
  alertmanagerUrl,
  requireAlertmanager,
  skipAlertmanager,
} from "../../testkit/alertmanager.ts";
import { testAlert, testNotification } from "./alert-fixture.ts";

/** Against the real Alertmanager infra/up.sh starts (ALERTMANAGER_URL, default :9193). */
describe.skipIf(skipAlertmanager)("the Alertmanager v2 push, against a real Alertmanager", () => {
  const run = `push-${Date.now().toString(36)}`;
  beforeAll(requireAlertmanager);
  afterAll(async () => {
    // leave nothing firing behind for the next run
    const resolved = [testAlert({ run, node: "n1" }, { status: "resolved", endsAt: Date.now() - 1000 })];
    await alertmanagerDelivery(alertmanagerUrl, { resendMs: 60_000 }).deliver(testNotification(resolved));
  });

  test("a firing alert shows up in Alertmanager with the same labels, annotations and fingerprint", async () => {
    const alert = testAlert({ run, node: "n1" }, { startsAt: Date.now() - 5000 });
    await alertmanagerDelivery(alertmanagerUrl, { resendMs: 60_000 }).deliver(testNotification([alert]));
    const found = await alertmanagerAlerts(`run="${run}"`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      labels: alert.labels,
      annotations: alert.annotations,
      fingerprint: alert.fingerprint,
      status: { state: "active" },
    });
    // Prometheus' convention: a firing alert ends four resend intervals ahead unless resent
    const endsIn = Date.parse(found[0]!.endsAt) - Date.now();
    expect(endsIn).toBeGreaterThan(3 * 60_000);
    expect(endsIn).toBeLessThanOrEqual(4 * 60_000);
  });

  test("a resolved alert leaves Alertmanager's active alerts", async () => {
    const labels = { run, node: "n2" };
    const push = alertmanagerDelivery(alertmanagerUrl, { resendMs: 60_000 });
    await push.deliver(testNotification([testAlert(labels, { startsAt: Date.now() - 5000 })]));
    expect((await alertmanagerAlerts(`run="${run}"`)).map((a) => a.labels.node)).toContain("n2");
    await push.deliver(
      testNotification([
        testAlert(labels, { status: "resolved", startsAt: Date.now() - 5000, endsAt: Date.now() - 1 }),
      ]),
    );
    expect((await alertmanagerAlerts(`run="${run}"`)).map((a) => a.labels.node)).not.toContain("n2");
  });

  test("an Alertmanager that is not there fails the push with ALERT_DELIVERY_FAILED", async () => {
    const error = await Promise.resolve(
      alertmanagerDelivery("http://127.0.0.1:9", { resendMs: 1000, timeoutMs: 1000 }).deliver(
        testNotification([testAlert({})]),
      ),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error, "ALERT_DELIVERY_FAILED")).toBe(true);
  });
});
