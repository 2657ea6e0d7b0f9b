/**
 * Our side of the peer benchmark (bench/peer-windowed-aggregation.ts), the job of the original
 * design's IoTStreamProcessor: filter traffic readings, 1-minute event-time tumbling windows per
 * sensor, count and sum/min/max of vehicle_count and avg_speed, updates to an output topic.
 *
 * WHAT IT RUNS: the node's window path on one thread, as a node with WORKERS=0 runs it:
 * - a consumer-group member of the Log port's Kafka adapter (log/kafka);
 * - each record decoded and validated as the dispatcher does (engine/raw-reading.ts: JSON, the
 *   zod reading schema, measurements in order), non-traffic readings dropped (the node would
 *   send them to their own window actors; Kafka Streams' job filters them out);
 * - one window actor per sensor type and partition (actors/window/window.ts, window/<type>:<partition>)
 *   in an actor system, with the node's partition operator (actors/window/partition-windows.ts: count,
 *   sum, mean, min, max per measurement, each sensor's own stream time, grace, on-update and final
 *   emission, each sensor's state changelogged on its own);
 * - the node's event time: per-partition watermarks (stream/watermark; a partition idle only when
 *   read to its end, by the consumer's lag, as the dispatcher keeps them) sent after each batch to
 *   the window actors whose earliest window may close (event-time timers), as the partition host does;
 * - checkpoints every `commitIntervalMs` (the node's COMMIT_INTERVAL_MS, default from
 *   node/config.ts): every window actor that changed publishes its state, which goes through
 *   the node's actor-state stores (engine/actor-state.ts) to the compacted changelog
 *   `<app>.window.changelog`; input offsets are committed only after the outputs and that state
 *   are durable, and only at checkpoints (engine/dispatcher.ts's rule);
 * - the window updates of each poll batch coalesced to the latest per window: by the window
 *   actors' record cache (the operator's `cacheUpdates`, Kafka Streams' KIP-63: each actor emits
 *   its windows' latest state once, after the readings queued for it), and here an update that
 *   the batch's watermark then closed gives way to the final result; appended in order, up to 4
 *   batches behind the processing.
 *
 * Not in: sensor actors (quality checks, anomaly scores) and the model shard, which Kafka Streams'
 * job does not do either; the binary hop through the shard ring.
 *
 * Exits after <records> input records; prints {"event":"ready"} once it owns partitions and
 * finally {"records","seconds","recordsPerSecond",...} on stdout. "seconds" runs from the first
 * record polled to the durable commit (after the final checkpoint) of the batch holding the last one.
 *
 * Usage: bun bench/peers/ours-windowed-aggregation.ts <brokers> <input> <output> <records> [grace-ms] [timeout-s] [commit-interval-ms]
 */

import { partitionWindowsFactory } from "../../actors/window/partition-windows.ts";
import type { WindowSpec } from "../../actors/window/sensor-windows.ts";
import { type WindowMessage, windowKey as windowActorKey, windowProps } from "../../actors/window/window.ts";
import { openActorStateStores } from "../../engine/actor-state.ts";
import { rawReading } from "../../engine/raw-reading.ts";
import { openKafkaLog, parseBrokers } from "../../log/kafka/index.ts";
import { resolveKafkaLogOptions } from "../../log/kafka/kafka-options.ts";
import type { CommitOffset, Consumer, Log, ProducerRecord } from "../../log/log.ts";
import type { HostOutput } from "../../messages/host-protocol.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { loadNodeConfig } from "../../node/config.ts";
import { EventTimeTimers } from "../../stream/watermark/event-time-timers.ts";
import { PartitionWatermarks } from "../../stream/watermark/partition-watermarks.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../supervisor/index.ts";
import { WINDOW_MS } from "./traffic-data.ts";
import { windowKey, windowResultBound, writeWindowResult } from "./window-result.ts";

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
  readonly timeoutMs?: number;
  readonly onReady?: () => void;
}

export interface OursResult {
  readonly records: number;
  readonly seconds: number | null;
  readonly recordsPerSecond: number | null;
  readonly complete: boolean;
  readonly outputs: number;
  readonly skipped: number;
  readonly late: number;
  readonly checkpoints: number;
  readonly commitIntervalMs: number;
  readonly changelogRecords: number;
  readonly windowActors: number;
  readonly pollSeconds: number;
  readonly processSeconds: number;
  readonly checkpointSeconds: number;
  readonly flushWaitSeconds: number;
  /** the codec of every batch it produced (outputs and changelog): the node's */
  readonly compression: string;
}

/** the node's default commit interval (COMMIT_INTERVAL_MS unset) */
export const NODE_COMMIT_INTERVAL_MS = loadNodeConfig({}, []).commitIntervalMs;
const NODE_PARTITION_IDLE_MS = loadNodeConfig({}, []).partitionIdleMs;
const MAX_POLL_RECORDS = 20_000;
const MAX_FLUSHES_IN_FLIGHT = 4;
/** as the partition host: checkpoint requests per turn between drains */
const SNAPSHOTS_PER_TURN = 256;
const INPUT_PARTITIONS = 12;
const decoder = new TextDecoder();
const decodeJson = (bytes: Uint8Array): unknown => JSON.parse(decoder.decode(bytes));

export async function runOurs(options: OursOptions): Promise<OursResult> {
  // as a node opens it (node/node-log.ts): the Kafka log's defaults, lz4 among them
  const log = await openKafkaLog({ brokers: options.brokers, clientId: `peer-ours-${process.pid}` });
  let consumer: Consumer | undefined;
  try {
    const applicationId = `peer-ours-${options.input}-${Date.now()}`;
    consumer = log.consumer({ groupId: applicationId, topics: [options.input], startFrom: "earliest" });
    const result = await aggregate(log, consumer, applicationId, options);
    return { ...result, compression: resolveKafkaLogOptions({ brokers: options.brokers }).compression };
  } finally {
    await consumer?.close();
    await log.close();
  }
}

async function aggregate(
  log: Log,
  consumer: Consumer,
  applicationId: string,
  options: OursOptions,
): Promise<Omit<OursResult, "compression">> {
  const graceMs = options.graceMs ?? 30_000;
  const commitIntervalMs = options.commitIntervalMs ?? NODE_COMMIT_INTERVAL_MS;
  const maxOutOfOrdernessMs = Math.min(2000, graceMs); // as node/start-node.ts
  const window: WindowSpec = options.hopMs
    ? { kind: "hopping", sizeMs: WINDOW_MS, advanceMs: options.hopMs }
    : { kind: "tumbling", sizeMs: WINDOW_MS };
  const state = await openActorStateStores(log, { applicationId, partitions: INPUT_PARTITIONS });
  const system = createActorSystem({ name: "peer-ours", snapshots: new InMemorySnapshotStore() });
  const closeTimers = new EventTimeTimers();
  // the latest output of each window in the batch: the record cache already sends one update
  // per window, and this drops an update that the batch's watermark then closed (its final
  // result follows in the same batch)
  const latest = new BatchOutputs();
  let late = 0;
  const emit = (output: HostOutput) => {
    if (output.type === "window") latest.add(output.window);
    else if (output.type === "state") state.save(output.kind, output.key, output.partition, output.state);
    else if (output.type === "late") late++;
  };
  system.register(
    windowProps({
      createWindows: partitionWindowsFactory({
        window,
        graceMs,
        maxOutOfOrdernessMs,
        idleTimeoutMs: NODE_PARTITION_IDLE_MS,
        clock: Date.now,
        cacheUpdates: options.cacheUpdates ?? true,
      }),
      emit,
      now: Date.now,
      tickMs: 1000,
      scoreTypes: [],
      onNextClose: (key, closeAt) => closeTimers.schedule(key, closeAt),
    }),
  );
  // as the dispatcher keeps them (engine/dispatcher.ts): a partition is idle only when read to
  // its end (the consumer's lag) and silent for the idle timeout, so a partition whose records
  // the consumer hands over late is waited for, not passed (the bench has no held records)
  const watermarks = new PartitionWatermarks(maxOutOfOrdernessMs, NODE_PARTITION_IDLE_MS, {
    lagOf: (partition) => consumer.currentLag({ topic: options.input, partition }),
  });
  let watermark = Number.NEGATIVE_INFINITY;
  const dirty = new Set<string>();

  const uncommitted = new Map<number, number>();
  const deadline = Date.now() + (options.timeoutMs ?? 240_000);
  let appending: Promise<void> = Promise.resolve();
  let flushing: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  let seen = 0;
  let outputs = 0;
  let skipped = 0;
  let checkpoints = 0;
  let firstAt = 0;
  let lastCheckpointAt = Date.now();
  // where the time goes: waiting for poll, our own work, checkpoints, waiting for earlier flushes
  let pollMs = 0;
  let processMs = 0;
  let checkpointMs = 0;
  let flushWaitMs = 0;
  let ready = false;

  while (seen < options.records && Date.now() < deadline) {
    const pollStart = performance.now();
    const records = await consumer.poll({ maxRecords: MAX_POLL_RECORDS, timeoutMs: 100 });
    const processStart = performance.now();
    if (firstAt !== 0) pollMs += processStart - pollStart;
    if (!ready && consumer.assignment().length > 0) {
      ready = true;
      for (const tp of consumer.assignment()) watermarks.expect(tp.partition, Date.now());
      options.onReady?.();
    }
    if (records.length === 0) continue;
    if (firstAt === 0) firstAt = performance.now();
    const now = Date.now();
    for (const record of records) {
      uncommitted.set(record.partition, record.offset + 1);
      const reading = rawReading(record, decodeJson, () => skipped++, now);
      if (reading === undefined) continue;
      watermarks.observe(record.partition, reading.eventTime, now);
      if (reading.sensorType !== "traffic") {
        skipped++;
        continue;
      }
      const key = windowActorKey(reading.sensorType, reading.partition);
      dirty.add(key);
      // the hot reading as the partition host hands it on: a literal of one shape, not a spread
      system.ref<WindowMessage>("window", key).tell({
        type: "reading",
        reading: {
          sensorType: reading.sensorType,
          sensorId: reading.sensorId,
          eventTime: reading.eventTime,
          values: Float64Array.from(reading.values),
          partition: reading.partition,
          offset: reading.offset,
          ingestedAt: reading.ingestedAt,
        },
      });
    }
    seen += records.length;
    await system.drain();
    // the node's event time: wake the window actors whose earliest window it passed
    watermarks.checkIdle(Date.now());
    if (watermarks.current > watermark) {
      watermark = watermarks.current;
      for (const key of closeTimers.due(watermark)) {
        dirty.add(key);
        system.ref<WindowMessage>("window", key).tell({ type: "watermark", watermark });
      }
      await system.drain();
    }
    const checkpointStart = performance.now();
    const checkpoint = seen >= options.records || Date.now() - lastCheckpointAt >= commitIntervalMs;
    if (checkpoint) {
      lastCheckpointAt = Date.now();
      checkpoints++;
      const keys = [...dirty];
      dirty.clear();
      for (let i = 0; i < keys.length; i += SNAPSHOTS_PER_TURN) {
        for (const key of keys.slice(i, i + SNAPSHOTS_PER_TURN))
          system.ref<WindowMessage>("window", key).tell({ type: "checkpoint" });
        await system.drain();
      }
    }
    const batch = toProducerRecords(options.output, latest);
    latest.clear();
    outputs += batch.length;
    const flushStart = performance.now();
    checkpointMs += flushStart - checkpointStart;
    processMs += checkpointStart - processStart;
    // Appends run one after another (a stale window update must not land after a newer one);
    // at a checkpoint, the state follows the appends and the commit follows the state, so
    // committed offsets never run ahead of the outputs and state they imply.
    const previousAppend = appending;
    appending = (async () => {
      await previousAppend;
      await log.append(batch);
    })();
    if (checkpoint) {
      const commits: CommitOffset[] = [];
      for (const [partition, offset] of uncommitted)
        commits.push({ topic: options.input, partition, offset });
      uncommitted.clear();
      const appended = appending;
      const previousFlush = flushing;
      flushing = (async () => {
        await appended;
        await previousFlush;
        await state.flush();
        await consumer.commit(commits);
      })();
    }
    const step = Promise.all([appending, flushing]).then(() => undefined);
    // marked handled here so a failure waits for its turn; it is rethrown where inFlight is awaited
    step.catch(() => undefined);
    inFlight.push(step);
    if (inFlight.length > MAX_FLUSHES_IN_FLIGHT) await inFlight.shift();
    flushWaitMs += performance.now() - flushStart;
  }
  await Promise.all(inFlight);
  const complete = seen >= options.records;
  const seconds = complete ? (performance.now() - firstAt) / 1_000 : null;
  const changelog = state.stats().window;
  // every window actor started in the run is still alive (nothing passivates here)
  const windowActors = system.stats().byKind.window?.actors ?? 0;
  await system.stop();
  return {
    records: seen,
    seconds,
    recordsPerSecond: seconds === null ? null : Math.round(seen / seconds),
    complete,
    outputs,
    skipped,
    late,
    checkpoints,
    commitIntervalMs,
    changelogRecords: changelog?.recordsWritten ?? 0,
    windowActors,
    pollSeconds: pollMs / 1_000,
    processSeconds: processMs / 1_000,
    checkpointSeconds: checkpointMs / 1_000,
    flushWaitSeconds: flushWaitMs / 1_000,
  };
}

/**
 * The window outputs of one poll batch, each window's latest: a later output of a window takes
 * the place of the one before (an update that the batch's watermark then closed gives way to the
 * final result). Found through the sensor's earlier outputs in the batch, a chain by index: a
 * map by "sensor@start" built that text and hashed it for every output, where the sensor id is
 * the operator's own string, hashed once for the whole run.
 */
export class BatchOutputs {
  /** in the order they came; undefined where a later output of the same window took over */
  results: (WindowResult | undefined)[] = [];
  /** per output: the index of the same sensor's output before it in the batch, -1 for none */
  private previous: number[] = [];
  private lastOfSensor = new Map<string, number>();

  add(result: WindowResult): void {
    const before = this.lastOfSensor.get(result.key) ?? -1;
    for (let i = before; i >= 0; i = this.previous[i]!) {
      if (this.results[i]?.window_start === result.window_start) {
        this.results[i] = undefined; // at most one live output per window: the one before it
        break;
      }
    }
    this.lastOfSensor.set(result.key, this.results.length);
    this.results.push(result);
    this.previous.push(before);
  }

  clear(): void {
    this.results = [];
    this.previous = [];
    this.lastOfSensor.clear();
  }
}

/**
 * One Buffer for the batch's values, each record a view of its part: each value is written
 * once, as bytes, where the producer takes it (window-result.ts's `writeWindowResult`), into a
 * Buffer sized by each value's bound instead of measuring the values first.
 */
function toProducerRecords(topic: string, outputs: BatchOutputs): ProducerRecord[] {
  let bound = 0;
  for (const result of outputs.results) if (result !== undefined) bound += windowResultBound(result.key);
  const pool = Buffer.allocUnsafe(bound);
  const records: ProducerRecord[] = [];
  let at = 0;
  for (const result of outputs.results) {
    if (result === undefined) continue;
    const end = writeWindowResult(
      pool,
      at,
      result.key,
      result.window_start,
      result.window_end,
      result.count,
      result.fields.vehicle_count!,
      result.fields.avg_speed!,
    );
    records.push({ topic, key: windowKey(result.key, result.window_start), value: pool.subarray(at, end) });
    at = end;
  }
  return records;
}

if (import.meta.main) {
  const [brokers, input, output, records, grace, timeout, commitInterval] = process.argv.slice(2);
  if (brokers === undefined || input === undefined || output === undefined || records === undefined) {
    console.error(
      "usage: bun bench/peers/ours-windowed-aggregation.ts <brokers> <input> <output> <records> [grace-ms] [timeout-s] [commit-interval-ms]",
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
    onReady: () => console.log(JSON.stringify({ event: "ready" })),
  });
  console.log(JSON.stringify(result));
  process.exit(result.complete ? 0 : 2);
}
