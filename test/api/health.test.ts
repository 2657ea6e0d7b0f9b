import { describe, expect, test } from "bun:test";
import { actorsHealth, healthReport, logHealth, mqttHealth, nodeHealth } from "../../api/health.ts";

describe("the mqtt check", () => {
  const options = { expectTraffic: true, maxSilenceMs: 10_000, reconnectQuietMs: 5000, startedAt: 0 };

  // each case: counters sampled at times (ms), then judged at `at`
  test.each([
    {
      name: "receiving steadily",
      samples: [
        [2000, 10, 0],
        [4000, 20, 0],
      ],
      at: 5000,
      expectTraffic: true,
      ok: true,
    },
    {
      name: "silent past the interval while traffic is expected",
      samples: [
        [2000, 10, 0],
        [4000, 10, 0],
      ],
      at: 12_001,
      expectTraffic: true,
      ok: false,
      reason: /no MQTT message for 10 s/,
    },
    {
      name: "silent, but no traffic is expected",
      samples: [[2000, 0, 0]],
      at: 60_000,
      expectTraffic: false,
      ok: true,
    },
    {
      name: "reconnecting to the broker",
      samples: [
        [2000, 10, 0],
        [4000, 10, 3],
      ],
      at: 5000,
      expectTraffic: false,
      ok: false,
      reason: /reconnecting/,
    },
    {
      name: "reconnected and receiving again",
      samples: [
        [2000, 10, 0],
        [4000, 10, 3],
        [6000, 25, 3],
      ],
      at: 7000,
      expectTraffic: true,
      ok: true,
    },
    {
      name: "reconnected a while ago, no traffic expected",
      samples: [
        [2000, 0, 0],
        [4000, 0, 1],
      ],
      at: 9001,
      expectTraffic: false,
      ok: true,
    },
    {
      name: "never received anything since start, past the interval",
      samples: [[2000, 0, 0]],
      at: 10_001,
      expectTraffic: true,
      ok: false,
      reason: /no MQTT message/,
    },
  ])("$name -> ok $ok", ({ samples, at, expectTraffic, ok, reason }) => {
    let counters = { received: 0, reconnects: 0 };
    const check = mqttHealth(
      { received: () => counters.received, reconnects: () => counters.reconnects },
      { ...options, expectTraffic },
    );
    check.sample(0);
    for (const [time, received, reconnects] of samples) {
      counters = { received: received!, reconnects: reconnects! };
      check.sample(time!);
    }
    const verdict = check.check(at);
    expect(verdict.ok).toBe(ok);
    if (reason) expect(verdict.reason).toMatch(reason);
  });
});

test.each([
  ["a subscriber whose connection is down fails the check, even while messages were recent", false, false],
  ["a connected subscriber passes", true, true],
])("%s", (_name, connected, ok) => {
  const check = mqttHealth(
    { received: () => 10, reconnects: () => 0, connected: () => connected },
    { expectTraffic: false, maxSilenceMs: 10_000, reconnectQuietMs: 5000, startedAt: 0 },
  );
  check.sample(1000);
  const verdict = check.check(2000);
  expect(verdict.ok).toBe(ok);
  if (!ok) expect(verdict.reason).toMatch(/not connected/);
});

describe("the actors check", () => {
  test.each([
    { name: "no failure, heartbeat fresh", fatal: undefined, heartbeatAt: 9000, ok: true },
    {
      name: "a fatal failure",
      fatal: { code: "LOG_CLOSED" },
      heartbeatAt: 9000,
      ok: false,
      reason: /LOG_CLOSED/,
    },
    {
      name: "the systems stopped answering",
      fatal: undefined,
      heartbeatAt: 0,
      ok: false,
      reason: /not answered/,
    },
  ])("$name -> ok $ok", ({ fatal, heartbeatAt, ok, reason }) => {
    const check = actorsHealth(
      { fatal: () => fatal, lastHeartbeatAt: () => heartbeatAt },
      { maxSilenceMs: 5000 },
    );
    const verdict = check.check(10_000);
    expect(verdict.ok).toBe(ok);
    if (reason) expect(verdict.reason).toMatch(reason);
  });
});

describe("the log check", () => {
  test.each([
    { name: "answered recently", answeredAt: 8000, ok: true },
    { name: "silent past the limit", answeredAt: 4999, ok: false },
  ])("$name -> ok $ok", ({ answeredAt, ok }) => {
    const verdict = logHealth(() => answeredAt, { maxSilenceMs: 5000 }).check(10_000);
    expect(verdict.ok).toBe(ok);
    if (!ok) expect(verdict.reason).toMatch(/the log has not answered for 5 s/);
  });
});

describe("the health report", () => {
  test("is ready only when every check passes, and a check that throws fails alone", () => {
    const report = healthReport(
      [
        { name: "good", check: () => ({ ok: true }) },
        {
          name: "broken",
          check: () => {
            throw new Error("secret internal detail");
          },
        },
      ],
      0,
    );
    expect(report.ready).toBe(false);
    expect(report.checks.good).toEqual({ ok: true });
    expect(report.checks.broken!.ok).toBe(false);
    expect(report.checks.broken!.reason).not.toContain("secret");
  });

  test("the node's checks fail each on its own signal", () => {
    let received = 0;
    let fatal: unknown;
    const health = nodeHealth({
      fatal: () => fatal,
      mqtt: { received: () => received, reconnects: () => 0 },
      expectMqttTraffic: true,
      mqttMaxSilenceMs: 10_000,
      maxSilenceMs: 15_000,
      startedAt: 0,
    });
    const verdicts = (now: number) =>
      Object.fromEntries(
        Object.entries(healthReport(health.checks, now).checks).map(([name, v]) => [name, v.ok]),
      );
    health.sample(0);
    received = 5;
    health.sample(5000);
    health.heartbeat(5000);
    health.logAnswered(5000);
    expect(verdicts(6000)).toEqual({ actors: true, log: true, mqtt: true });
    // the log keeps answering, the systems do not, MQTT goes quiet
    health.logAnswered(20_000);
    expect(verdicts(20_001)).toEqual({ actors: false, log: true, mqtt: false });
    health.heartbeat(20_001);
    fatal = new Error("boom");
    expect(verdicts(20_002)).toEqual({ actors: false, log: true, mqtt: false });
  });
});
