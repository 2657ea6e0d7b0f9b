import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  actorsHealth,
  healthReport,
  logHealth,
  mqttHealth,
  nodeHealth,
  type WalCheckpointHealthSource,
  walCheckpointHealth,
} from "../../api/health.ts";
import { PlatformMetrics } from "../../api/metrics.ts";
import { WalCheckpointer } from "../../log/embedded/wal-checkpointer.ts";
import { PlatformError } from "../../messages/errors.ts";
import { startApi } from "./api-fixture.ts";

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

describe("the mqtt check under a client-id takeover or a rate collapse", () => {
  // each case: [time ms, received, disconnects] samples every 2 s, judged at the last one
  const steady = (from: number, to: number, perSecond: number, disconnectsAt: number[] = []) => {
    const samples: [number, number, number][] = [];
    for (let t = from; t <= to; t += 2000)
      samples.push([t, Math.round((t * perSecond) / 1000), disconnectsAt.filter((d) => d <= t).length]);
    return samples;
  };
  test.each([
    { name: "steady at the expected rate", samples: steady(0, 30_000, 200), expected: 200, ok: true },
    {
      name: "one disconnect (a broker restart) in a minute",
      samples: steady(0, 30_000, 200, [10_000]),
      expected: 200,
      ok: true,
    },
    {
      name: "the connection dropped 3 times in a minute while messages still arrive (regression: 201/s -> 36/s stayed green)",
      samples: steady(0, 30_000, 200, [10_000, 14_000, 18_000]),
      expected: undefined,
      ok: false,
      reason: /degraded: the MQTT ingest connection dropped 3 times/,
    },
    {
      name: "3 drops long ago are forgotten",
      samples: steady(0, 100_000, 200, [2000, 4000, 6000]),
      expected: 200,
      ok: true,
    },
    {
      name: "ingest at a fifth of the simulator's rate",
      samples: [
        ...steady(0, 10_000, 200),
        ...steady(12_000, 30_000, 40).map(([t, r, d]) => [t, r + 2000 - 480, d] as [number, number, number]),
      ],
      expected: 200,
      ok: false,
      reason: /degraded: MQTT ingest at .* messages\/s/,
    },
    {
      name: "a slow rate with no expected rate is not judged",
      samples: steady(0, 30_000, 40),
      expected: undefined,
      ok: true,
    },
    {
      name: "too soon after the start to judge the rate",
      samples: steady(0, 6000, 10),
      expected: 200,
      ok: true,
    },
  ])("$name -> ok $ok", ({ samples, expected, ok, reason }) => {
    let counters = { received: 0, disconnects: 0 };
    const check = mqttHealth(
      {
        received: () => counters.received,
        reconnects: () => counters.disconnects,
        disconnects: () => counters.disconnects,
        connected: () => true,
      },
      {
        expectTraffic: true,
        maxSilenceMs: 10_000,
        reconnectQuietMs: 0,
        startedAt: 0,
        ...(expected !== undefined ? { expectedRatePerSecond: expected } : {}),
      },
    );
    for (const [time, received, disconnects] of samples) {
      counters = { received, disconnects };
      check.sample(time);
    }
    const verdict = check.check(samples.at(-1)![0]);
    expect(verdict.ok).toBe(ok);
    if (reason) expect(verdict.reason).toMatch(reason);
  });
});

describe("the wal_checkpoints check", () => {
  const failure = new PlatformError(
    "LOG_CHECKPOINT_FAILED",
    "a WAL checkpoint on the checkpoint thread failed",
    {
      details: { reason: "disk I/O error (SQLITE_IOERR)" },
    },
  );
  test.each([
    { name: "never failed", status: { failing: false, failures: 0, lastFailure: undefined }, ok: true },
    {
      name: "failed once, then a pass succeeded",
      status: { failing: false, failures: 1, lastFailure: failure },
      ok: true,
    },
    {
      name: "failing now",
      status: { failing: true, failures: 4, lastFailure: failure },
      ok: false,
      reason:
        "degraded: WAL checkpoints on the checkpoint thread are failing (LOG_CHECKPOINT_FAILED: disk I/O error (SQLITE_IOERR); 4 failed since start); the writer checkpoints on its own meanwhile",
    },
  ] as { name: string; status: WalCheckpointHealthSource; ok: boolean; reason?: string }[])(
    "$name -> ok $ok",
    ({ status, ok, reason }) => {
      const verdict = walCheckpointHealth(() => status).check(0);
      expect(verdict.ok).toBe(ok);
      expect(verdict.reason).toBe(reason);
    },
  );

  test("is one of the node's checks only when the log checkpoints on a thread", () => {
    const base = {
      fatal: () => undefined,
      mqtt: { received: () => 0, reconnects: () => 0 },
      expectMqttTraffic: false,
      startedAt: 0,
    };
    expect(nodeHealth(base).checks.map((c) => c.name)).toEqual(["actors", "log", "mqtt"]);
    const withThread = nodeHealth({
      ...base,
      walCheckpoints: () => ({ failing: false, failures: 0, lastFailure: undefined }),
    });
    expect(withThread.checks.map((c) => c.name)).toEqual(["actors", "log", "mqtt", "wal_checkpoints"]);
  });

  test("a checkpoint thread that fails makes /health degraded with its code and /metrics count it, with no path shown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "health-wal-"));
    const writer = new Database(join(dir, "log.db"), { create: true });
    writer.run("PRAGMA journal_mode = WAL");
    // the thread cannot open its file: a real failure of the real thread
    const checkpointer = new WalCheckpointer(writer, join(dir, "gone", "log.db"), { warn: () => {} });
    const api = startApi({ health: [walCheckpointHealth(() => checkpointer.status())] });
    const metrics = new PlatformMetrics({ processMetrics: false });
    metrics.observe({ walCheckpoints: () => checkpointer.status() });
    try {
      const deadline = Date.now() + 15_000;
      while (!checkpointer.status().failing) {
        if (Date.now() > deadline) throw new Error("timed out waiting for the thread's start to fail");
        await Bun.sleep(10);
      }
      const response = await fetch(`${api.url}/health`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as {
        status: string;
        checks: Record<string, { ok: boolean; reason?: string }>;
      };
      expect(body.status).toBe("unhealthy");
      expect(body.checks.wal_checkpoints!.ok).toBe(false);
      expect(body.checks.wal_checkpoints!.reason).toStartWith(
        "degraded: WAL checkpoints on the checkpoint thread are failing (LOG_CHECKPOINT_FAILED: unable to open database file (SQLITE_CANTOPEN); 1 failed since start)",
      );
      expect(JSON.stringify(body)).not.toContain(dir);
      const text = await metrics.text();
      expect(text).toContain("platform_wal_checkpoint_failures_total 1");
      expect(text).toContain("platform_wal_checkpoint_failing 1");
    } finally {
      await api.stop();
      await checkpointer.stop();
      writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
