import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeedHub } from "../../api/feeds/feed-hub.ts";
import { LiveView } from "../../api/live-view.ts";
import { PlatformMetrics } from "../../api/metrics.ts";
import { type EmbeddedLog, openEmbeddedLog } from "../../log/embedded/index.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { type CorruptStateReport, corruptStateReport } from "../../messages/host-protocol.ts";
import type { ProcessedReading } from "../../messages/processed-reading.ts";
import { Topics } from "../../messages/topics.ts";
import { OutputRouter, type OutputRouterDeps } from "../../sinks/output-router.ts";

const TOPICS = [Topics.silver, Topics.quarantine, Topics.deadLetters];
const text = new TextDecoder();

/** JSON, refusing what a topic's schema would: a score that is not a finite number */
async function schemaEncode(topic: string, value: unknown): Promise<Uint8Array> {
  const score = (value as { anomaly_score?: unknown }).anomaly_score;
  if (topic !== Topics.deadLetters && !(typeof score === "number" && Number.isFinite(score)))
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `${topic}-value: must be number at /anomaly_score`);
  return new TextEncoder().encode(JSON.stringify(value));
}

function reading(sensor: string, anomalyScore: number, offset: number): ProcessedReading {
  return {
    sensor_id: sensor,
    type: "traffic",
    event_time: 1_700_000_000_000 + offset,
    values: { vehicle_count: 12 },
    passed: true,
    quality_score: 1,
    issues: [],
    anomaly_score: anomalyScore,
    partition: 0,
    offset,
  };
}

describe("output router", () => {
  let dir: string;
  let log: EmbeddedLog;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "output-router-"));
    log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
    for (const name of TOPICS) await log.createTopic({ name, partitions: 1 });
  });

  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function routerWith(
    encode: (topic: string, value: unknown) => Promise<Uint8Array>,
    extra: Partial<OutputRouterDeps> = {},
  ) {
    const marks: string[] = [];
    const errors: unknown[] = [];
    const samples: string[] = [];
    const router = new OutputRouter({
      log,
      encode,
      view: new LiveView(),
      feeds: new FeedHub(),
      metrics: new PlatformMetrics({ processMetrics: false }),
      repartition: { typeWindows: "app-type-windows-repartition", drift: "app-drift-repartition" },
      sample: (sample) => samples.push(`${sample.labels.sensor_id} ${sample.metric}`),
      onMark: (worker, batch) => marks.push(`${worker}/${batch}`),
      onError: (error) => errors.push(error),
      now: () => 1_700_000_100_000,
      ...extra,
    });
    return { router, marks, errors, samples };
  }

  const keysOf = async (topic: string) =>
    (await log.read({ topic, partition: 0 })).map((record) => record.key);

  // regression: one refused output failed the whole flush, so the node failed, and its replay
  // after the restart met the same output again; a NaN score also threw out of the metrics
  test("an output its topic's schema refuses becomes a dead letter with the reason, the rest of the batch is appended and its mark released", async () => {
    const { router, marks, errors, samples } = routerWith(schemaEncode);
    router.route({ type: "reading", reading: reading("good_1", 0.2, 1), ingestedAt: 0 });
    router.route({ type: "reading", reading: reading("bad_1", Number.NaN, 2), ingestedAt: 0 });
    router.route({ type: "reading", reading: reading("good_2", 0.3, 3), ingestedAt: 0 });
    router.route({ type: "mark", worker: 1, batch: 7 });
    await router.flush();

    expect(errors).toEqual([]);
    expect(marks).toEqual(["1/7"]);
    // the alert rules hear no score that is not a number
    expect(samples.filter((sample) => sample.startsWith("bad_1"))).toEqual(["bad_1 quality_score"]);
    expect(await keysOf(Topics.silver)).toEqual(["good_1", "good_2"]);
    const letters = await log.read({ topic: Topics.deadLetters, partition: 0 });
    expect(letters).toHaveLength(1);
    const letter = JSON.parse(text.decode(letters[0]!.value!)) as Record<string, unknown>;
    expect(letter.source).toBe(`output:${Topics.silver}`);
    expect(letter.code).toBe(ErrorCodes.SCHEMA_VIOLATION);
    expect(String(letter.reason)).toContain(`${Topics.silver}-value: must be number at /anomaly_score`);
    // the refused value itself, as JSON wrote it (NaN became null)
    const kept = JSON.parse(Buffer.from(String(letter.payload_base64), "base64").toString("utf8"));
    expect(kept).toMatchObject({ sensor_id: "bad_1", anomaly_score: null });
  });

  test("the routed readings' counter and each type's quality gauge reach prom-client at the batch's flush, as the sum and the last value", async () => {
    const metrics = new PlatformMetrics({ processMetrics: false });
    const { router } = routerWith(schemaEncode, { metrics });
    const routed = async () =>
      (await metrics.messagesByTopic.get()).values.find((v) => v.labels.topic === "actors.readings")?.value ??
      0;
    const quality = async () =>
      Object.fromEntries(
        (await metrics.qualityScore.get()).values.map((v) => [v.labels.sensor_type, v.value]),
      );
    const scored = (sensor: string, type: "traffic" | "environment", score: number, offset: number) => ({
      ...reading(sensor, 0.1, offset),
      type,
      quality_score: score,
    });
    router.route({ type: "reading", reading: scored("t1", "traffic", 0.5, 1), ingestedAt: 0 });
    router.route({ type: "reading", reading: scored("e1", "environment", 0.7, 2), ingestedAt: 0 });
    router.route({ type: "reading", reading: scored("t2", "traffic", 0.25, 3), ingestedAt: 0 });
    router.route({ type: "reading", reading: scored("t3", "traffic", Number.NaN, 4), ingestedAt: 0 });
    router.route({ type: "mark", worker: 0, batch: 1 });
    await router.flush();
    expect(await routed()).toBe(4);
    // the last finite score of each type; a score that is not a number leaves the gauge as it was
    expect(await quality()).toEqual({ traffic: 0.25, environment: 0.7 });
    router.route({ type: "reading", reading: scored("e2", "environment", 0.9, 5), ingestedAt: 0 });
    router.route({ type: "mark", worker: 0, batch: 2 });
    await router.flush();
    expect(await routed()).toBe(5);
    expect(await quality()).toEqual({ traffic: 0.25, environment: 0.9 });
  });

  const failures = [
    { what: "the registry is away", error: new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "registry away") },
    { what: "an error that is not the platform's", error: new TypeError("boom") },
  ];

  test.each(failures)(
    "a failure that is not the value's ($what) fails the flush, writes nothing and holds the mark back",
    async ({ error }) => {
      const { router, marks, errors } = routerWith(async (topic, value) => {
        if ((value as { sensor_id?: string }).sensor_id === "bad_1") throw error;
        return schemaEncode(topic, value);
      });
      router.route({ type: "reading", reading: reading("good_1", 0.2, 1), ingestedAt: 0 });
      router.route({ type: "reading", reading: reading("bad_1", 0.2, 2), ingestedAt: 0 });
      // the mark starts the flush; the next one settles after it, whichever way it went
      router.route({ type: "mark", worker: 0, batch: 1 });
      await router.flush();
      expect(errors).toEqual([error]);
      expect(marks).toEqual([]);
      expect(await keysOf(Topics.silver)).toEqual([]);
      expect(await keysOf(Topics.deadLetters)).toEqual([]);
    },
  );

  test("a restored state an actor could not decode goes to onCorruptState with its code and reason, and nowhere else", async () => {
    const reports: CorruptStateReport[] = [];
    const { router, errors } = routerWith(schemaEncode, { onCorruptState: (report) => reports.push(report) });
    const error = new PlatformError(ErrorCodes.DECODE_FAILED, "window snapshot: cut short");
    router.route(corruptStateReport("window", "traffic:0:s-1", 0, error));
    await router.flush();
    expect(reports).toEqual([
      {
        type: "corrupt-state",
        kind: "window",
        key: "traffic:0:s-1",
        partition: 0,
        code: ErrorCodes.DECODE_FAILED,
        reason: "window snapshot: cut short",
      },
    ]);
    expect(errors).toEqual([]);
    expect(await keysOf(Topics.deadLetters)).toEqual([]);
  });
});
