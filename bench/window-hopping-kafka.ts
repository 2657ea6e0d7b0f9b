/**
 * Issue 4's hopping-window job, end to end from Kafka: 1-minute windows every 10 s per sensor
 * (count, sum, mean, min, max of two fields), read from a real broker through our Kafka adapter,
 * windowed by the node's window path (bench/peers/ours-windowed-aggregation.ts: a window actor
 * per sensor with its operator, updates through the operator's record cache, changelog
 * checkpoints at the node's commit interval), updates coalesced per batch and
 * appended back to Kafka, offsets committed after the outputs and state.
 * The figure is events per CPU-second of this process (per core), beside, from the same run and
 * data, the same pipeline with tumbling windows (6x fewer window updates per event), the hopping
 * job without the record cache (every reading emits its six windows' updates; the batch
 * coalesces them afterwards, as before the cache), and, as a quoted reference only, Flink's
 * published Nexmark q5 (a hop window): 22.1k events/s per core.
 *
 *   bun run infra:up kafka && bun bench/window-hopping-kafka.ts      (HOP_RECORDS=300000, HOP_ROUNDS=3)
 * Target: >= 100k events/s per core.
 */
import { openKafkaLog } from "../log/kafka/index.ts";
import { runOurs } from "./peers/ours-windowed-aggregation.ts";
import { BenchTopics } from "./peers/topic-admin.ts";
import { defaultSpec, generateReadings, produceReadings } from "./peers/traffic-data.ts";
import { median, printFigure } from "./support.ts";

const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const records = Number(process.env.HOP_RECORDS ?? 300_000);
// each side runs once a round, the order rotating, so none is always the one that warms the JIT
const rounds = Number(process.env.HOP_ROUNDS ?? 3);
const runId = `${Date.now().toString(36)}`;

const log = await openKafkaLog({ brokers, clientId: `hop-bench-${process.pid}` });
const topics = new BenchTopics(brokers);
try {
  const input = await topics.create(log, `hop-in-${runId}`, 12);
  await produceReadings(log, input, generateReadings(defaultSpec(records)));

  const measure = async (side: string, round: number, hopMs: number | undefined, cacheUpdates = true) => {
    const output = await topics.create(log, `hop-out-${side}-${round}-${runId}`, 12);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    // the node's window path: window actors, updates coalesced per batch, changelog checkpoints
    const result = await runOurs({
      brokers,
      input,
      output,
      records,
      cacheUpdates,
      ...(hopMs ? { hopMs } : {}),
    });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return {
      side,
      records: result.records,
      wallSeconds: (performance.now() - started) / 1000,
      cpuSeconds,
      perCore: result.records / cpuSeconds,
      outputs: result.outputs,
      complete: result.complete,
    };
  };
  const sides = [
    { side: "hopping-1m-10s", hopMs: 10_000, cacheUpdates: true },
    { side: "tumbling-1m", hopMs: undefined, cacheUpdates: true },
    { side: "hopping-1m-10s-no-record-cache", hopMs: 10_000, cacheUpdates: false },
  ];
  const runs: Awaited<ReturnType<typeof measure>>[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < sides.length; i++) {
      const { side, hopMs, cacheUpdates } = sides[(i + round) % sides.length]!;
      runs.push(await measure(side, round, hopMs, cacheUpdates));
    }
  }
  console.log("\nwindowed aggregation from Kafka, one process (events per CPU-second)");
  console.table(
    runs.map((r) => ({
      side: r.side,
      records: r.records,
      "wall s": r.wallSeconds.toFixed(2),
      "cpu s": r.cpuSeconds.toFixed(2),
      "events/s per core": Math.round(r.perCore),
      "window updates out": r.outputs,
      complete: r.complete,
    })),
  );
  const medianOf = (side: string) => {
    const ofSide = runs.filter((r) => r.side === side);
    if (ofSide.some((r) => !r.complete)) throw new Error(`${side}: a run did not complete`);
    return { perCore: median(ofSide.map((r) => r.perCore)) };
  };
  const hoppingRun = medianOf("hopping-1m-10s");
  const tumblingRun = medianOf("tumbling-1m");
  const uncachedRun = medianOf("hopping-1m-10s-no-record-cache");
  console.log(
    `medians of ${rounds}: hopping ${Math.round(hoppingRun.perCore)}, tumbling ${Math.round(tumblingRun.perCore)}, hopping without the record cache ${Math.round(uncachedRun.perCore)} events/s per core`,
  );
  console.log("reference (quoted, not measured here): Flink Nexmark q5 hop window, 22.1k events/s per core");
  printFigure({
    name: "window-hopping-kafka.per-core",
    value: Math.round(hoppingRun.perCore),
    unit: "events/s/core",
    baseline: "tumbling-same-pipeline",
    baseline_value: Math.round(tumblingRun.perCore),
  });
  printFigure({
    name: "window-hopping-kafka.per-core.record-cache",
    value: Math.round(hoppingRun.perCore),
    unit: "events/s/core",
    baseline: "hopping-without-record-cache",
    baseline_value: Math.round(uncachedRun.perCore),
  });
} finally {
  // and the changelogs ours created ("peer-ours-<input>-<time>.<kind>.changelog")
  await topics.deleteAll([`peer-ours-hop-in-${runId}`]);
  await topics.close();
  await log.close();
}
