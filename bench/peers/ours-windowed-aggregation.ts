/**
 * Our side of the peer benchmark (bench/peer-windowed-aggregation.ts), the job of the original
 * design's IoTStreamProcessor: filter traffic readings, 1-minute event-time tumbling windows per
 * sensor, count and sum/min/max of vehicle_count and avg_speed, updates to an output topic.
 *
 * WHAT IT RUNS: one Bun process, one thread, no actors: a consumer-group member of the Log
 * port's Kafka adapter (log/kafka) -> UTF-8 decode + JSON.parse -> type filter -> the stream/
 * window operator, one per input partition (emit on update, grace as Kafka Streams) -> the
 * updates of each poll batch coalesced to the latest per window (what Kafka Streams' record
 * cache does per commit interval) -> one Log append per batch -> commit of the batch's offsets
 * once its append is durable (at-least-once in; the output is keyed by window, so a replay
 * overwrites rather than double-counts). Appends, and commits, of up to 4 batches run in order
 * behind the processing of the next. It is NOT yet the node pipeline (node/: dispatcher -> Bun workers
 * -> actors); when that lands, this file should drive it instead of the loop below.
 *
 * Exits after <records> input records; prints {"event":"ready"} once it owns partitions and
 * finally {"records","seconds","recordsPerSecond",...} on stdout. "seconds" runs from the first
 * record polled to the durable commit of the batch holding the last one.
 *
 * Usage: bun bench/peers/ours-windowed-aggregation.ts <brokers> <input> <output> <records> [grace-ms] [timeout-s]
 */
import { openKafkaLog, parseBrokers } from "../../log/kafka/index.ts";
import type { CommitOffset, Consumer, Log, ProducerRecord } from "../../log/log.ts";
import {
  clearWindowOutput,
  createWindowOperator,
  createWindowOutput,
  hopping,
  tumbling,
  type WindowOperator,
  type WindowResult,
} from "../../stream/index.ts";
import { WINDOW_MS } from "./traffic-data.ts";
import { encodeWindowResult, windowKey } from "./window-result.ts";

export interface OursOptions {
  readonly brokers: readonly string[];
  readonly input: string;
  readonly output: string;
  readonly records: number;
  readonly graceMs?: number;
  /** hop of hopping windows of WINDOW_MS (issue 4's 1 min / 10 s job); default tumbling */
  readonly hopMs?: number;
  /** "final": one result per window when it closes (Flink's window output); default "on-update" */
  readonly emit?: "on-update" | "final";
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
  readonly rejected: number;
  readonly pollSeconds: number;
  readonly processSeconds: number;
  readonly flushWaitSeconds: number;
}

const MAX_POLL_RECORDS = 20_000;
const MAX_FLUSHES_IN_FLIGHT = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function runOurs(options: OursOptions): Promise<OursResult> {
  const log = await openKafkaLog({ brokers: options.brokers, clientId: `peer-ours-${process.pid}` });
  let consumer: Consumer | undefined;
  try {
    consumer = log.consumer({
      groupId: `peer-ours-${options.input}-${Date.now()}`,
      topics: [options.input],
      startFrom: "earliest",
    });
    return await aggregate(log, consumer, options);
  } finally {
    await consumer?.close();
    await log.close();
  }
}

async function aggregate(log: Log, consumer: Consumer, options: OursOptions): Promise<OursResult> {
  // one operator per input partition, as Kafka Streams has one task (and window store) per
  // partition: event time and window closing then advance per partition, as its stream time does
  const operators: WindowOperator[] = [];
  const operatorOf = (partition: number): WindowOperator => {
    let operator = operators[partition];
    if (operator === undefined) {
      operator = createWindowOperator({
        assigner: options.hopMs ? hopping(WINDOW_MS, options.hopMs) : tumbling(WINDOW_MS),
        aggregators: { vehicle_count: ["count", "sum", "min", "max"], avg_speed: ["sum", "min", "max"] },
        graceMs: options.graceMs ?? 30_000,
        emit: options.emit ?? "on-update",
      });
      operators[partition] = operator;
    }
    return operator;
  };
  const out = createWindowOutput();
  const values = new Float64Array(2);
  const latest = new Map<string, WindowResult>();
  const nextOffsets = new Map<number, number>();
  const deadline = Date.now() + (options.timeoutMs ?? 240_000);
  let appending: Promise<void> = Promise.resolve();
  let flushing: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  let seen = 0;
  let outputs = 0;
  let skipped = 0;
  let late = 0;
  let rejected = 0;
  let firstAt = 0;
  // where the time goes: waiting for poll, our own work, waiting for the previous flush
  let pollMs = 0;
  let processMs = 0;
  let flushWaitMs = 0;
  let ready = false;

  while (seen < options.records && Date.now() < deadline) {
    const pollStart = performance.now();
    const records = await consumer.poll({ maxRecords: MAX_POLL_RECORDS, timeoutMs: 100 });
    const processStart = performance.now();
    if (firstAt !== 0) pollMs += processStart - pollStart;
    if (!ready && consumer.assignment().length > 0) {
      ready = true;
      options.onReady?.();
    }
    if (records.length === 0) continue;
    if (firstAt === 0) firstAt = performance.now();
    for (const record of records) {
      nextOffsets.set(record.partition, record.offset + 1);
      const reading = parseTraffic(record.value);
      if (reading === undefined || record.key === null) {
        skipped++;
        continue;
      }
      values[0] = reading.vehicle_count;
      values[1] = reading.avg_speed;
      operatorOf(record.partition).process(
        record.partition,
        record.key,
        Date.parse(reading.timestamp),
        values,
        out,
      );
    }
    seen += records.length;
    for (const result of out.emitted) latest.set(windowKey(result.key, result.windowStart), result);
    late += out.late.length;
    rejected += out.rejected.length;
    clearWindowOutput(out);
    const batch = toProducerRecords(options.output, latest);
    latest.clear();
    outputs += batch.length;
    const commits: CommitOffset[] = [];
    for (const [partition, offset] of nextOffsets) commits.push({ topic: options.input, partition, offset });
    nextOffsets.clear();
    // Two ordered chains run behind the loop, at most MAX_FLUSHES_IN_FLIGHT batches ahead:
    // appends one after another, and commit k after append k and commit k - 1. Appends are not
    // issued concurrently: the Kafka adapter's append awaits once per record before it reaches
    // its batcher, so two concurrent appends can reach a partition out of call order, and a
    // stale window update could land after a newer one.
    const flushStart = performance.now();
    processMs += flushStart - processStart;
    const previousAppend = appending;
    appending = (async () => {
      await previousAppend;
      await log.append(batch);
    })();
    const appended = appending;
    const previousFlush = flushing;
    flushing = (async () => {
      await appended;
      await previousFlush;
      await consumer.commit(commits);
    })();
    // marked handled here so a failure waits for its turn; it is rethrown where inFlight is awaited
    flushing.catch(() => undefined);
    inFlight.push(flushing);
    if (inFlight.length > MAX_FLUSHES_IN_FLIGHT) await inFlight.shift();
    flushWaitMs += performance.now() - flushStart;
  }
  await Promise.all(inFlight);
  const complete = seen >= options.records;
  const seconds = complete ? (performance.now() - firstAt) / 1_000 : null;
  return {
    records: seen,
    seconds,
    recordsPerSecond: seconds === null ? null : Math.round(seen / seconds),
    complete,
    outputs,
    skipped,
    late,
    rejected,
    pollSeconds: pollMs / 1_000,
    processSeconds: processMs / 1_000,
    flushWaitSeconds: flushWaitMs / 1_000,
  };
}

interface TrafficFields {
  readonly type: string;
  readonly timestamp: string;
  readonly vehicle_count: number;
  readonly avg_speed: number;
}

/** A traffic reading's fields, or undefined for another type or a value that does not parse. */
function parseTraffic(value: Uint8Array | null): TrafficFields | undefined {
  if (value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(value));
  } catch {
    return undefined; // counted as skipped; the platform's ingest would dead-letter it
  }
  const reading = parsed as Partial<TrafficFields> | null;
  if (
    reading === null ||
    reading.type !== "traffic" ||
    typeof reading.timestamp !== "string" ||
    typeof reading.vehicle_count !== "number" ||
    typeof reading.avg_speed !== "number"
  ) {
    return undefined;
  }
  return reading as TrafficFields;
}

function toProducerRecords(topic: string, latest: ReadonlyMap<string, WindowResult>): ProducerRecord[] {
  const records: ProducerRecord[] = [];
  for (const [key, result] of latest) {
    const vehicle = result.aggregates.vehicle_count as { sum: number; min: number; max: number };
    const speed = result.aggregates.avg_speed as { sum: number; min: number; max: number };
    const value = encodeWindowResult(
      result.key,
      result.windowStart,
      result.windowEnd,
      result.count,
      vehicle,
      speed,
    );
    records.push({ topic, key, value: encoder.encode(value) });
  }
  return records;
}

if (import.meta.main) {
  const [brokers, input, output, records, grace, timeout] = process.argv.slice(2);
  if (brokers === undefined || input === undefined || output === undefined || records === undefined) {
    console.error(
      "usage: bun bench/peers/ours-windowed-aggregation.ts <brokers> <input> <output> <records> [grace-ms] [timeout-s]",
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
    onReady: () => console.log(JSON.stringify({ event: "ready" })),
  });
  console.log(JSON.stringify(result));
  process.exit(result.complete ? 0 : 2);
}
