import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AlertSignals, startAlertSignals } from "../../../actors/alert/alert-signals.ts";
import { LiveView } from "../../../api/live-view.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import type { MetricSample } from "../../../messages/alert.ts";
import { Topics } from "../../../messages/topics.ts";

/**
 * The node's signals with the clock in the test's hand and looks taken by the test (the
 * sampler's own timer is set far out), over a real embedded log for the lag.
 */
describe("the node's alert signals", () => {
  const dir = mkdtempSync(join(tmpdir(), "alert-signals-"));
  let log: Log;
  beforeAll(async () => {
    log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
    await log.createTopic({ name: Topics.sensorsRaw, partitions: 2 });
  });
  afterAll(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(options: { consumed?: number; view?: LiveView } = {}) {
    let now = 1_000_000;
    const samples: MetricSample[] = [];
    const signals: AlertSignals = startAlertSignals({
      node: "n1",
      log,
      applicationId: "signals-app",
      partitions: 2,
      dataDir: dir,
      view: options.view ?? new LiveView(),
      consumed: () => options.consumed ?? 0,
      sample: (s) => samples.push(s),
      onError: (error) => {
        throw error;
      },
      everyMs: 3_600_000,
      crashWindowMs: 4000,
      now: () => now,
    });
    const lookAt = async (at: number) => {
      now = at;
      samples.length = 0;
      await signals.look();
      return samples;
    };
    const value = (metric: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    const setNow = (at: number) => {
      now = at;
    };
    return { signals, lookAt, value, samples, setNow };
  }

  test("every sample carries the node's label", async () => {
    const { signals, lookAt } = start();
    const samples = await lookAt(1_000_000);
    signals.stop();
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.labels.node === "n1")).toBe(true);
  });

  test("a worker crash counts within its window, then not", async () => {
    const { signals, lookAt, value, setNow } = start();
    setNow(1_000_000);
    signals.event({ type: "worker-restarted", workerIndex: 0 });
    await lookAt(1_001_000);
    expect(value("worker_crashes")).toBe(1);
    await lookAt(1_004_000);
    expect(value("worker_crashes")).toBe(0);
    signals.stop();
  });

  test("actor restarts count over the last minute; other supervision decisions do not", async () => {
    const { signals, lookAt, value } = start();
    for (let i = 0; i < 3; i++) signals.event({ type: "supervision", decision: "restart" });
    signals.event({ type: "supervision", decision: "stop" });
    await lookAt(1_030_000);
    expect(value("actor_restarts_per_minute")).toBe(3);
    await lookAt(1_060_000);
    expect(value("actor_restarts_per_minute")).toBe(0);
    signals.stop();
  });

  test("a source whose readings drop shows a rate ratio below its usual, and its staleness grows", async () => {
    const { signals, lookAt, value, setNow } = start();
    const reading = { metric: "quality_score", value: 1, labels: { sensor_type: "traffic" }, at: 0 };
    let t = 1_000_000;
    // 12 looks at 10 readings/s, 2 s apart
    for (let look = 0; look < 12; look++) {
      setNow(t);
      for (let i = 0; i < 20; i++) signals.observe(reading);
      t += 2000;
      await lookAt(t);
    }
    expect(value("ingest_rate_ratio", { source: "traffic" })).toBeCloseTo(1, 1);
    expect(value("source_staleness_seconds", { source: "traffic" })).toBe(2);
    // the source goes quiet
    await lookAt(t + 2000);
    expect(value("ingest_rate_ratio", { source: "traffic" })).toBe(0);
    await lookAt(t + 62_000);
    expect(value("source_staleness_seconds", { source: "traffic" })).toBe(64);
    signals.stop();
  });

  test("prediction latency is the p99 of the predictions since the last look, per model", async () => {
    const view = new LiveView();
    const { signals, lookAt, value } = start({ view });
    await lookAt(1_000_000);
    for (let i = 1; i <= 100; i++)
      view.prediction({
        prediction_id: `p${i}`,
        model: "traffic",
        model_version: "1",
        key: "k",
        window_start: 0,
        window_end: 1,
        features: {},
        value: 0,
        latency_ms: i,
        at: 1_000_000 + i,
      });
    await lookAt(1_002_000);
    expect(value("prediction_latency_ms", { model: "traffic" })).toBe(100);
    await lookAt(1_004_000);
    expect(value("prediction_latency_ms", { model: "traffic" })).toBeUndefined();
    signals.stop();
  });

  test("consumer lag is end offsets minus the group's commits, and a sink that commits nothing stalls", async () => {
    await log.append(
      Array.from({ length: 10 }, (_, i) => ({
        topic: Topics.sensorsRaw,
        key: `s${i}`,
        value: new Uint8Array([i]),
      })),
    );
    const { signals, lookAt, value } = start({ consumed: 10 });
    await lookAt(1_000_000);
    expect(value("consumer_lag_records")).toBe(10);
    expect(value("sink_stalled_seconds", { sink: "log" })).toBe(0);
    await lookAt(1_045_000);
    expect(value("sink_stalled_seconds", { sink: "log" })).toBe(45);
    signals.stop();
  });

  test("memory and disk are ratios", async () => {
    const { signals, lookAt, value } = start();
    await lookAt(1_000_000);
    for (const metric of ["memory_used_ratio", "disk_free_ratio"]) {
      expect(value(metric)).toBeGreaterThan(0);
      expect(value(metric)).toBeLessThanOrEqual(1);
    }
    signals.stop();
  });
});
