/**
 * Our side of the peer benchmark (bench/peer-windowed-aggregation.ts), the job of the original
 * design's IoTStreamProcessor: filter traffic readings, 1-minute event-time tumbling windows per
 * sensor, count and sum/min/max of vehicle_count and avg_speed, updates to an output topic.
 *
 * WHAT IT RUNS: the node's engine, started as node/start-node.ts starts it (engine/stream-engine.ts),
 * on the node's partition workers (WORKERS, default the node's: one Bun worker per core):
 * - the dispatcher (engine/dispatcher.ts) on the main thread: a consumer-group member of the Log
 *   port's Kafka adapter, each record decoded and validated once (engine/raw-reading.ts), the
 *   node's per-partition watermarks, the hot binary reading written into its home worker's
 *   SharedArrayBuffer ring, batch marks, checkpoints every `commitIntervalMs` (the node's
 *   COMMIT_INTERVAL_MS), input offsets committed only when a checkpoint's marks are all back;
 * - the partition hosts (engine/partition-host.ts) on the workers (engine/worker-hosts.ts): one
 *   window actor per sensor type and partition with the node's partition operator (record cache,
 *   grace, each sensor's own stream time, exactly-once offsets), event-time timers, checkpoint
 *   slices; outputs and changelog state back through each worker's outbound ring;
 * - the outputs leave through this side's output router (window-update-sink.ts, what
 *   sinks/output-router.ts is to a node): each window's latest update appended to the output
 *   topic, then the state flushed to the node's changelogs (engine/actor-state.ts), then the mark
 *   passed on, so the dispatcher commits nothing the outputs and state do not cover.
 *
 * What differs from a node, and why: the engine is started with the bench's input topic, a filter
 * before the windows (traffic only: Kafka Streams' job filters the rest out; the others still
 * move event time and are committed) and `sensorChecks: false` (no sensor actors: quality checks,
 * anomaly scores and processed readings are not part of the job Kafka Streams does). Its outputs
 * go to the bench's output router, not the node's (which writes final windows to their topics and
 * the live view). When the last input record has been polled the dispatcher is asked for a
 * checkpoint at once (Kafka Streams' `commit()` request) rather than at the end of its interval.
 * WORKERS=0 runs the same engine with one partition host on the main thread, as a node does.
 *
 * Exits after <records> input records; prints {"event":"ready"} once it owns partitions and
 * finally {"records","seconds","recordsPerSecond",...} on stdout. "seconds" runs from the first
 * record polled to the durable commit (a checkpoint's) that covers the last one.
 *
 * Two flushes of the window actors' record cache (engine/partition-host-setup.ts): "batch", the
 * node's default (each burst's latest updates go out at once, for the live feed), and
 * "checkpoint", what a Kafka Streams application does with its default cache (updates held to
 * the commit, the oldest early when the cache is full; fewer outputs, the same final windows).
 *
 * Usage: bun bench/peers/ours-windowed-aggregation.ts <brokers> <input> <output> <records> [grace-ms] [timeout-s] [commit-interval-ms] [batch|checkpoint]
 * Env: WORKERS (the node's partition workers; default the node's), PEER_POLL_RECORDS (the
 *      dispatcher's records per poll; default the node's), READING_PARSE (main|worker: where a
 *      raw reading's JSON is read, engine/partition-hosts.ts; default the engine's)
 */

import type { WindowUpdateFlush } from "../../actors/window/window.ts";
import { openActorStateStores } from "../../engine/actor-state.ts";
import {
  DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES,
  type PartitionHostSetup,
} from "../../engine/partition-host-setup.ts";
import type { ReadingParse } from "../../engine/partition-hosts.ts";
import { startStreamEngine } from "../../engine/stream-engine.ts";
import { openKafkaLog, parseBrokers } from "../../log/kafka/index.ts";
import { resolveKafkaLogOptions } from "../../log/kafka/kafka-options.ts";
import type { CommitOffset, Consumer, ConsumerOptions, Log, PollOptions } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { HostOutput } from "../../messages/host-protocol.ts";
import { loadNodeConfig } from "../../node/config.ts";
import { type ThreadCpu, threadCpu, threadCpuPerRecord } from "./thread-cpu.ts";
import { WINDOW_MS } from "./traffic-data.ts";
import { WindowUpdateSink } from "./window-update-sink.ts";

export interface OursOptions {
  readonly brokers: readonly string[];
  readonly input: string;
  readonly output: string;
  readonly records: number;
  readonly graceMs?: number;
  /** hop of hopping windows of WINDOW_MS (issue 4's 1 min / 10 s job); default tumbling */
  readonly hopMs?: number;
  /** checkpoint (changelog flush + commit) interval; default the node's COMMIT_INTERVAL_MS */
  readonly commitIntervalMs?: number;
  /** the window actors' record cache (the node's default: on); off emits an update per reading */
  readonly cacheUpdates?: boolean;
  /** when the record cache's updates go out; default "batch", the node's */
  readonly updateFlush?: WindowUpdateFlush;
  /** partition workers (Bun workers); 0: one partition host on the main thread. Default the node's */
  readonly workers?: number;
  /** the dispatcher's records per poll; default the node's */
  readonly pollRecords?: number;
  /** where a raw reading's JSON is read (READING_PARSE; engine/partition-hosts.ts); default the engine's */
  readonly readingParse?: ReadingParse;
  readonly timeoutMs?: number;
  readonly onReady?: () => void;
}

export interface OursResult {
  readonly records: number;
  readonly seconds: number | null;
  readonly recordsPerSecond: number | null;
  readonly complete: boolean;
  readonly outputs: number;
  /** input records dead-lettered; readings the filter leaves out are dropped in the workers, uncounted */
  readonly skipped: number;
  readonly late: number;
  readonly checkpoints: number;
  readonly commitIntervalMs: number;
  /** the record cache's flush, and its bound per window actor under "checkpoint" */
  readonly updateFlush: string;
  readonly changelogRecords: number;
  readonly windowActors: number;
  /** the partition workers the windows ran on (0: the main thread) */
  readonly workers: number;
  /** threads doing the job's work: the dispatcher's main thread and the partition workers */
  readonly threads: string;
  /** each thread's CPU per record from the group joined to the last commit, and the process's */
  readonly threadCpu: string;
  /** the codec of every batch it produced (outputs and changelog): the node's */
  readonly compression: string;
  readonly error?: string;
}

const NODE_DEFAULTS = loadNodeConfig({}, []);
/** the node's default commit interval (COMMIT_INTERVAL_MS unset) */
export const NODE_COMMIT_INTERVAL_MS = NODE_DEFAULTS.commitIntervalMs;
/** the node's partition workers as WORKERS (the node's own variable) sets them */
export const nodeWorkers = (env: Record<string, string | undefined>): number =>
  loadNodeConfig(env.WORKERS === undefined ? {} : { WORKERS: env.WORKERS }, []).workers;
/** READING_PARSE as the bench sets it (main|worker); unset: the engine's default */
function readingParseOf(value: string | undefined): ReadingParse | undefined {
  if (value === undefined || value === "main" || value === "worker") return value;
  throw new PlatformError(ErrorCodes.CONFIG_INVALID, `READING_PARSE must be main or worker, not ${value}`);
}
const INPUT_PARTITIONS = 12;
const decoder = new TextDecoder();
const decodeJson = (bytes: Uint8Array): unknown => JSON.parse(decoder.decode(bytes));

export async function runOurs(options: OursOptions): Promise<OursResult> {
  // as a node opens it (node/node-log.ts): the Kafka log's defaults, lz4 among them
  const kafka = await openKafkaLog({ brokers: options.brokers, clientId: `peer-ours-${process.pid}` });
  try {
    const result = await aggregate(kafka, options);
    return { ...result, compression: resolveKafkaLogOptions({ brokers: options.brokers }).compression };
  } finally {
    await kafka.close();
  }
}

async function aggregate(kafka: Log, options: OursOptions): Promise<Omit<OursResult, "compression">> {
  const graceMs = options.graceMs ?? 30_000;
  const commitIntervalMs = options.commitIntervalMs ?? NODE_COMMIT_INTERVAL_MS;
  const workers = options.workers ?? NODE_DEFAULTS.workers;
  const applicationId = `peer-ours-${options.input}-${Date.now()}`;
  const updateFlush = options.updateFlush ?? "batch";
  const progress = new InputProgress(options.records);
  const log = observedInput(kafka, options.input, progress);
  const state = await openActorStateStores(kafka, { applicationId, partitions: INPUT_PARTITIONS });
  let failure: unknown;
  let failed: (() => void) | undefined;
  const fail = (error: unknown) => {
    failure ??= error;
    failed?.();
  };
  let late = 0;
  let deadLetters = 0;
  const sink = new WindowUpdateSink({
    log: kafka,
    topic: options.output,
    flushState: () => state.flush(),
    onMark: (worker, batch) => engine.markDone(worker, batch),
    onError: fail,
  });
  const onOutput = (output: HostOutput) => {
    if (output.type === "window") sink.window(output.window);
    else if (output.type === "state") state.save(output.kind, output.key, output.partition, output.state);
    else if (output.type === "mark") sink.mark(output.worker, output.batch);
    else if (output.type === "late") late++;
    else if (output.type === "dead-letter") deadLetters++;
    else if (output.type === "corrupt-state")
      state.corrupt(output.kind, output.key, new PlatformError(output.code, output.reason));
  };
  let ready = false;
  let cpuAtReady: ThreadCpu = new Map();
  const engine = await startStreamEngine({
    log,
    applicationId,
    topic: options.input,
    partitions: INPUT_PARTITIONS,
    workers,
    setup: {
      ...hostSetup(graceMs, options.hopMs),
      cacheUpdates: options.cacheUpdates ?? true,
      windowUpdateFlush: updateFlush,
    },
    commitIntervalMs,
    state,
    decode: decodeJson,
    // the filter runs in the workers that read the readings: what it leaves out is not counted
    acceptTypes: ["traffic"],
    ...(options.pollRecords === undefined ? {} : { pollRecords: options.pollRecords }),
    ...(options.readingParse === undefined ? {} : { readingParse: options.readingParse }),
    onOutput,
    onDeadLetter: () => deadLetters++,
    onConsumed: () => {},
    onAssignment: (owned) => {
      if (ready || owned.length === 0) return;
      ready = true;
      cpuAtReady = threadCpu();
      options.onReady?.();
    },
    onTransientError: () => {},
    onError: fail,
  });
  // every record polled: the checkpoint that covers them is asked for now, and again after a
  // commit that did not cover them all (records held back by a restore were dispatched later)
  progress.onAllPolled = () => engine.dispatcher.requestCheckpoint();
  progress.onCommitShort = () => engine.dispatcher.requestCheckpoint();
  const deadline = options.timeoutMs ?? 240_000;
  const done = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), deadline);
    const finish = (value: boolean) => {
      clearTimeout(timer);
      resolve(value);
    };
    progress.onComplete = () => finish(true);
    failed = () => finish(false);
    if (failure !== undefined) finish(false);
  });
  const cpuAtDone = threadCpu();
  const stats = await engine.hosts.stats();
  const windowActors = stats.reduce((sum, s) => sum + (s.byKind.window?.actors ?? 0), 0);
  await engine.stop();
  const seconds = done ? (progress.completedAt - progress.firstPolledAt) / 1_000 : null;
  return {
    records: progress.polled,
    seconds,
    recordsPerSecond: seconds === null ? null : Math.round(options.records / seconds),
    complete: done,
    outputs: sink.appended,
    skipped: deadLetters,
    late,
    checkpoints: progress.commits,
    commitIntervalMs,
    updateFlush:
      updateFlush === "batch"
        ? "per batch"
        : `at the checkpoint, <= ${DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES} windows per window actor`,
    changelogRecords: state.stats().window?.recordsWritten ?? 0,
    windowActors,
    workers,
    threads: workers === 0 ? "main thread only" : `main (dispatch, outputs) + ${workers} partition workers`,
    threadCpu: threadCpuPerRecord(cpuAtReady, cpuAtDone, options.records),
    ...(failure === undefined ? {} : { error: String(failure) }),
  };
}

/** the partition hosts' set-up: the node's windows, grace and event time, windows only */
function hostSetup(graceMs: number, hopMs: number | undefined): PartitionHostSetup {
  return {
    window: hopMs
      ? { kind: "hopping", sizeMs: WINDOW_MS, advanceMs: hopMs }
      : { kind: "tumbling", sizeMs: WINDOW_MS },
    anomalyDetector: NODE_DEFAULTS.anomalyDetector,
    graceMs,
    maxOutOfOrdernessMs: Math.min(2000, graceMs), // as node/start-node.ts
    idleTimeoutMs: NODE_DEFAULTS.partitionIdleMs,
    sensorIntervalMs: 1000,
    utcOffsetMinutes: 0,
    tickMs: 1000,
    sensorChecks: false,
  };
}

/**
 * How far the input topic (fresh, offsets from 0) has been read and committed: all of it is
 * polled once the highest offsets polled, per partition, add up to the records; it is done once
 * the committed offsets do.
 */
export class InputProgress {
  private readonly polledTo = new Map<number, number>();
  private readonly committedTo = new Map<number, number>();
  polled = 0;
  committedRecords = 0;
  commits = 0;
  firstPolledAt = 0;
  completedAt = 0;
  onAllPolled: (() => void) | undefined;
  onCommitShort: (() => void) | undefined;
  onComplete: (() => void) | undefined;

  constructor(readonly records: number) {}

  polledRecords(records: readonly { partition: number; offset: number }[]): void {
    if (records.length === 0) return;
    if (this.firstPolledAt === 0) this.firstPolledAt = performance.now();
    const before = this.polled;
    for (const record of records) {
      const next = record.offset + 1;
      const to = this.polledTo.get(record.partition) ?? 0;
      if (next > to) {
        this.polled += next - to;
        this.polledTo.set(record.partition, next);
      }
    }
    if (before < this.records && this.polled >= this.records) this.onAllPolled?.();
  }

  committed(offsets: readonly CommitOffset[]): void {
    this.commits++;
    for (const { partition, offset } of offsets) {
      const to = this.committedTo.get(partition) ?? 0;
      if (offset > to) {
        this.committedRecords += offset - to;
        this.committedTo.set(partition, offset);
      }
    }
    if (this.completedAt !== 0) return;
    if (this.committedRecords >= this.records) {
      this.completedAt = performance.now();
      this.onComplete?.();
    } else if (this.polled >= this.records) this.onCommitShort?.();
  }
}

/**
 * The Kafka log as the engine uses it, with the input consumer's polls and durable commits
 * told to `progress` (the bench's clock and end); everything else is the log itself.
 */
function observedInput(log: Log, input: string, progress: InputProgress): Log {
  const consumerOf = (options: ConsumerOptions): Consumer => {
    const consumer = log.consumer(options);
    if (options.topics.length !== 1 || options.topics[0] !== input) return consumer;
    return {
      assignment: () => consumer.assignment(),
      async poll(poll?: PollOptions) {
        const records = await consumer.poll(poll);
        progress.polledRecords(records);
        return records;
      },
      async commit(offsets) {
        await consumer.commit(offsets);
        progress.committed(offsets);
      },
      committed: (partition) => consumer.committed(partition),
      seek: (position) => consumer.seek(position),
      currentLag: (partition) => consumer.currentLag(partition),
      close: () => consumer.close(),
    };
  };
  return new Proxy(log, {
    get(target, property) {
      if (property === "consumer") return consumerOf;
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

if (import.meta.main) {
  const [brokers, input, output, records, grace, timeout, commitInterval, flush] = process.argv.slice(2);
  if (
    brokers === undefined ||
    input === undefined ||
    output === undefined ||
    records === undefined ||
    (flush !== undefined && flush !== "batch" && flush !== "checkpoint")
  ) {
    console.error(
      "usage: bun bench/peers/ours-windowed-aggregation.ts <brokers> <input> <output> <records> [grace-ms] [timeout-s] [commit-interval-ms] [batch|checkpoint]",
    );
    process.exit(64);
  }
  const result = await runOurs({
    brokers: parseBrokers(brokers),
    input,
    output,
    records: Number(records),
    graceMs: grace === undefined ? undefined : Number(grace),
    timeoutMs: timeout === undefined ? undefined : Number(timeout) * 1_000,
    commitIntervalMs: commitInterval === undefined ? undefined : Number(commitInterval),
    ...(flush === undefined ? {} : { updateFlush: flush }),
    workers: nodeWorkers(process.env),
    pollRecords:
      process.env.PEER_POLL_RECORDS === undefined ? undefined : Number(process.env.PEER_POLL_RECORDS),
    readingParse: readingParseOf(process.env.READING_PARSE),
    onReady: () => console.log(JSON.stringify({ event: "ready" })),
  });
  console.log(JSON.stringify(result));
  process.exit(result.complete ? 0 : 2);
}
