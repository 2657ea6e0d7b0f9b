/**
 * The consume path alone against the broker's raw consume rate (issue 7 §4, ">= 70 % of Kafka's
 * ConsumerPerformance"), on one topic in one run, so the part the Kafka adapter owns is clear
 * apart from the window actors' cost (bench/peer-windowed-aggregation.ts measures the whole
 * node path against the same ceiling).
 *
 * Sides, each reading the whole topic from offset 0, in alternating order per run:
 * - ceiling: Kafka's ConsumerPerformance (JVM, one consumer, no work), fetch.nMsg.sec;
 * - poll: the Log port's group consumer (log/kafka/group-consumer.ts), poll(1000) in a loop, as
 *   the node's dispatcher polls: Fetch, our record batch decode (its batch stage on the batch
 *   decode thread for responses of 128 KiB and more, log/kafka/batch-decode-offload.ts),
 *   buffering, prefetch;
 * - fetch+decode: Fetch rounds one after another with our decode in place (log/kafka/partition-fetcher.ts);
 * - fetch+library decode: the same rounds through the library's fetch, which decodes every record
 *   into objects, then converted to log records (the adapter's path before; bench/peers/library-fetch.ts).
 * - node path (RAW_NODE_PATH=1): the whole 1,000-sensor window job of the peer benchmark
 *   (bench/peers/ours-windowed-aggregation.ts, its own process as there: the node's engine, its
 *   dispatcher on the main thread and its window actors on WORKERS partition workers, the
 *   node's default unless WORKERS is set; outputs, changelog, commits), on this same topic, so
 *   its share of the ceiling is measured in one run; its rate runs to its final durable
 *   commit, its CPU is not this process's. Its threads are printed with its rate.
 * Rates are first record to last; CPU is this process's user+system time over the same span,
 * all threads, and its main thread's alone (the one a node's dispatcher runs on).
 *
 * Usage: bun bench/raw-consume.ts
 * Env: KAFKA_BROKERS (127.0.0.1:9092), RAW_RECORDS (1000000), RAW_RUNS (3), RAW_NODE_PATH (unset:
 *      off; 1 adds the node path side; parse adds two, the reading parse in the partition workers
 *      and on the main thread, READING_PARSE; env adds the node path as it is and with RAW_NODE_ENV's
 *      variables, "NAME=value ..."), RAW_SIDES (comma list of the sides to run; all),
 *      RAW_SENSORS (1000; 100000 is the peer benchmark's 100k shape), RAW_NODE_BUN_FLAGS (bun's
 *      flags for the node path's process, e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof")
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { ConnectionPool, Consumer as KafkaConsumer } from "@platformatic/kafka";
import { openKafkaLog, parseBrokers } from "../log/kafka/index.ts";
import { fetchPartitions } from "../log/kafka/partition-fetcher.ts";
import type { Log } from "../log/log.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { runChild } from "./peers/child-run.ts";
import { consumerPerformance } from "./peers/consumer-performance.ts";
import { libraryFetch } from "./peers/library-fetch.ts";
import { NODE_COMMIT_INTERVAL_MS } from "./peers/ours-windowed-aggregation.ts";
import { KAFKA_LIB, oursCommand } from "./peers/peer-commands.ts";
import { BenchTopics } from "./peers/topic-admin.ts";
import { defaultSpec, generateReadings, produceReadings } from "./peers/traffic-data.ts";
import { median } from "./support.ts";

const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "127.0.0.1:9092");
const RECORDS = Number(process.env.RAW_RECORDS ?? 1_000_000);
const RUNS = Number(process.env.RAW_RUNS ?? 3);
const PARTITIONS = 12;
const LIMITS = { maxWaitMs: 500, partitionBytes: 1024 * 1024, totalBytes: 16 * 1024 * 1024 };
const TARGET = 0.7;

const SENSORS = Number(process.env.RAW_SENSORS ?? 1_000);

type Side =
  | "ceiling"
  | "poll"
  | "fetch+decode"
  | "fetch+library decode"
  | "node path"
  | "node path (parse in workers)"
  | "node path (parse on main)"
  | "node path (RAW_NODE_ENV)";
/** the node path's sides: as the node runs it, or both places of the reading parse (RAW_NODE_PATH=parse) */
const NODE_SIDES: Record<string, readonly Side[]> = {
  "1": ["node path"],
  parse: ["node path (parse in workers)", "node path (parse on main)"],
  env: ["node path", "node path (RAW_NODE_ENV)"],
};
/** RAW_NODE_ENV ("NAME=value NAME2=value2"): the environment of the node path's B side (RAW_NODE_PATH=env) */
const NODE_ENV_B: Record<string, string> = Object.fromEntries(
  (process.env.RAW_NODE_ENV ?? "")
    .split(" ")
    .filter((pair) => pair.includes("="))
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
/** READING_PARSE for each node path side (bench/peers/ours-windowed-aggregation.ts) */
const READING_PARSE: Partial<Record<Side, string>> = {
  "node path (parse in workers)": "worker",
  "node path (parse on main)": "main",
};
const ALL_SIDES: readonly Side[] = [
  "ceiling",
  "poll",
  "fetch+decode",
  "fetch+library decode",
  ...(NODE_SIDES[process.env.RAW_NODE_PATH ?? ""] ?? []),
];
const wantedSides = process.env.RAW_SIDES?.split(",").map((side) => side.trim());
const SIDES = ALL_SIDES.filter(
  (side) => side === "ceiling" || wantedSides === undefined || wantedSides.includes(side),
);

interface Timed {
  readonly recordsPerSecond: number;
  /** CPU nanoseconds of this process per record, every thread's; NaN for the JVM */
  readonly cpuNsPerRecord: number;
  /**
   * CPU nanoseconds of this process's main thread per record (Linux's per-thread counters, at
   * 10 ms resolution); NaN where there are none. The node's thread that polls also validates and
   * dispatches, so this is the consume's share of it; the rest is the batch decode thread's,
   * the JIT's and the GC's.
   */
  readonly mainCpuNsPerRecord: number;
}

/** this process's main thread's user+system CPU in ms, from /proc; NaN off Linux */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    // after the command name in parentheses: fields 14 and 15 (utime, stime) in clock ticks
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
    return Number.NaN;
  }
}

const fmt = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");

/**
 * counts records from the first fetch sent (the group joined) to the N-th record, with this
 * process's CPU over the same span, as ConsumerPerformance's fetch time excludes its join
 */
class Span {
  private count = 0;
  private startedAt = 0;
  private cpuAt = 0;
  private mainCpuAt = 0;
  constructor() {
    this.startedAt = performance.now();
    const cpu = process.cpuUsage();
    this.cpuAt = cpu.user + cpu.system;
    this.mainCpuAt = mainThreadCpuMs();
  }
  add(records: number): void {
    this.count += records;
  }
  get done(): boolean {
    return this.count >= RECORDS;
  }
  result(): Timed {
    const seconds = (performance.now() - this.startedAt) / 1_000;
    const cpu = process.cpuUsage();
    return {
      recordsPerSecond: this.count / seconds,
      cpuNsPerRecord: ((cpu.user + cpu.system - this.cpuAt) * 1_000) / this.count,
      mainCpuNsPerRecord: ((mainThreadCpuMs() - this.mainCpuAt) * 1_000_000) / this.count,
    };
  }
}

async function viaPoll(log: Log, topic: string, run: number): Promise<Timed> {
  const consumer = log.consumer({
    groupId: `raw-consume-${topic}-${run}`,
    topics: [topic],
    startFrom: "earliest",
  });
  const giveUpAt = Date.now() + 300_000;
  try {
    // timed from the group joined, as ConsumerPerformance's fetch time leaves its join out (the
    // span started with the consumer counted the join's ~0.5 s against a 1 s read)
    while (consumer.assignment().length === 0) {
      if (Date.now() > giveUpAt)
        throw new PlatformError(
          ErrorCodes.BENCH_PEER_FAILED,
          `the poll side's group on ${topic} never joined`,
        );
      await Bun.sleep(5);
    }
    const span = new Span();
    while (!span.done && Date.now() < giveUpAt)
      span.add((await consumer.poll({ maxRecords: 1_000, timeoutMs: 1_000 })).length);
    return span.result();
  } finally {
    await consumer.close();
  }
}

async function viaFetch(topic: string, decode: "ours" | "library"): Promise<Timed> {
  const client = new KafkaConsumer({
    clientId: "raw-consume",
    groupId: "raw-consume",
    bootstrapBrokers: brokers,
  });
  const pool = new ConnectionPool("raw-consume-fetch", {});
  const positions = new Map<number, bigint>(Array.from({ length: PARTITIONS }, (_, p) => [p, 0n]));
  const span = new Span();
  const giveUpAt = Date.now() + 300_000;
  try {
    while (!span.done && Date.now() < giveUpAt) {
      if (decode === "ours") {
        const fetched = await fetchPartitions(
          client,
          pool,
          [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
          LIMITS,
        );
        let count = 0;
        for (const partition of fetched) {
          count += partition.records.length;
          if (partition.nextOffset !== undefined) positions.set(partition.partition, partition.nextOffset);
        }
        span.add(count);
      } else {
        const fetched = await libraryFetch(client, pool, topic, positions, LIMITS);
        for (const [partition, next] of fetched.nextOffsets) positions.set(partition, next);
        span.add(fetched.records.length);
      }
    }
  } finally {
    await Promise.allSettled([client.close(), pool.close()]);
  }
  return span.result();
}

/** the peer benchmark's window job as its own process, reading this topic (it times itself) */
async function viaNodePath(
  log: Log,
  topics: BenchTopics,
  topic: string,
  run: number,
  side: Side,
): Promise<Timed> {
  const output = await topics.create(log, `${topic}-node-out-${run}-${SIDES.indexOf(side)}`, PARTITIONS);
  const command = oursCommand({
    brokers: brokers.join(","),
    input: topic,
    output,
    records: RECORDS,
    graceMs: 30_000,
    timeoutSeconds: 180,
    commitIntervalMs: NODE_COMMIT_INTERVAL_MS,
  });
  // a profile of the node path: RAW_NODE_BUN_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof"
  const flags = process.env.RAW_NODE_BUN_FLAGS?.split(" ").filter((flag) => flag !== "") ?? [];
  command.splice(1, 0, ...flags);
  const parse = READING_PARSE[side];
  const env =
    side === "node path (RAW_NODE_ENV)" ? NODE_ENV_B : parse === undefined ? {} : { READING_PARSE: parse };
  const result = await runChild("ours", command, 210_000, env).result;
  console.log(`  ${side} threads: ${result.threads}; CPU per record: ${result.threadCpu}`);
  return {
    recordsPerSecond: result.recordsPerSecond ?? Number.NaN,
    cpuNsPerRecord: Number.NaN,
    mainCpuNsPerRecord: Number.NaN,
  };
}

async function main(): Promise<void> {
  const log = await openKafkaLog({ brokers, clientId: "raw-consume" });
  const topics = new BenchTopics(brokers);
  const topic = await topics.create(log, `raw-consume-${Date.now().toString(36)}`, PARTITIONS);
  const loads: number[] = [];
  const results = new Map<Side, Timed[]>(SIDES.map((side) => [side, []]));
  try {
    const produceStart = performance.now();
    await produceReadings(log, topic, generateReadings(defaultSpec(RECORDS, { sensors: SENSORS })));
    console.log(
      `produced ${fmt(RECORDS)} readings of ${fmt(SENSORS)} sensors to ${topic} (${PARTITIONS} partitions) in ${((performance.now() - produceStart) / 1_000).toFixed(1)} s`,
    );
    for (let run = 1; run <= RUNS; run++) {
      for (const side of run % 2 === 1 ? SIDES : [...SIDES].reverse()) {
        loads.push(loadavg()[0]!);
        let timed: Timed;
        if (side === "ceiling") {
          const ceiling = await consumerPerformance(KAFKA_LIB, brokers.join(","), topic, RECORDS, 120_000);
          timed = {
            recordsPerSecond: ceiling.fetchRecordsPerSecond,
            cpuNsPerRecord: Number.NaN,
            mainCpuNsPerRecord: Number.NaN,
          };
        } else if (side === "poll") timed = await viaPoll(log, topic, run);
        else if (side.startsWith("node path")) timed = await viaNodePath(log, topics, topic, run, side);
        else timed = await viaFetch(topic, side === "fetch+decode" ? "ours" : "library");
        results.get(side)!.push(timed);
        console.log(
          `run ${run} ${side}: ${fmt(timed.recordsPerSecond)} rec/s, ${fmt(timed.cpuNsPerRecord)} ns CPU/record, main thread ${fmt(timed.mainCpuNsPerRecord)} (load ${loadavg()[0]!.toFixed(1)})`,
        );
      }
    }
  } finally {
    await topics.deleteAll([], []).catch((error: unknown) => console.warn("topic clean-up failed:", error));
    await topics.close();
    await log.close();
  }
  const rate = (side: Side) => median(results.get(side)!.map((t) => t.recordsPerSecond));
  const cpu = (side: Side) => median(results.get(side)!.map((t) => t.cpuNsPerRecord));
  const mainCpu = (side: Side) => median(results.get(side)!.map((t) => t.mainCpuNsPerRecord));
  // ratios per run, then their median: each run's sides met the same machine load
  const ratio = (side: Side, base: Side) =>
    median(results.get(side)!.map((t, i) => t.recordsPerSecond / results.get(base)![i]!.recordsPerSecond));
  console.log(
    `\nraw consume, ${fmt(RECORDS)} records, ${PARTITIONS} partitions, median of ${RUNS} runs, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
  );
  console.log("| side | rec/s | CPU ns/record | main thread ns/record | of ceiling |");
  console.log("|---|---:|---:|---:|---:|");
  for (const side of SIDES)
    console.log(
      `| ${side} | ${fmt(rate(side))} | ${fmt(cpu(side))} | ${fmt(mainCpu(side))} | ${(ratio(side, "ceiling") * 100).toFixed(0)} % |`,
    );
  if (SIDES.includes("fetch+decode") && SIDES.includes("fetch+library decode"))
    console.log(
      `our decode vs the library's, same fetch loop: ${ratio("fetch+decode", "fetch+library decode").toFixed(2)}x rec/s, ${(cpu("fetch+library decode") / cpu("fetch+decode")).toFixed(2)}x less CPU per record`,
    );
  const named: ReadonlyArray<readonly [Side, string]> = [
    ["poll", "raw-consume-poll-vs-ceiling"],
    ["node path", "raw-consume-node-path-vs-ceiling"],
  ];
  for (const [side, name] of named.concat(
    SIDES.filter((side) => side.startsWith("node path (")).map(
      (side) => [side, `raw-consume-${side}`] as const,
    ),
  )) {
    if (!SIDES.includes(side)) continue;
    console.log(
      `${side} >= ${TARGET * 100} % of ConsumerPerformance: ${ratio(side, "ceiling") >= TARGET ? "yes" : "no"}`,
    );
    console.log(
      JSON.stringify({
        name,
        value: Math.round(rate(side)),
        unit: "records/s",
        baseline: "kafka-consumer-performance",
        baseline_value: Math.round(rate("ceiling")),
        ratio: Number(ratio(side, "ceiling").toFixed(2)),
      }),
    );
  }
}

await main();
