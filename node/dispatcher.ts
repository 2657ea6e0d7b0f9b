import type { Consumer, Log, LogRecord } from "../log/log.ts";
import type { SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError } from "../messages/errors.ts";
import { MEASUREMENTS, measurementsOf, SensorReading } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import type { Shards } from "./shards.ts";

/**
 * Log -> actors. One consumer group member per node reads `city.sensors.raw`, decodes each record
 * once, and hands it to the worker that is its partition's home. After each polled batch every
 * worker that got records gets a batch mark; when all marks of a batch are back (its outputs are
 * durable, see OutputRouter) and every earlier batch is done too, the batch's offsets are
 * committed. Records that do not decode go to `city.sensors.raw.dlq` with the reason and the
 * original bytes, and their offsets are committed like any other (the consumer moves on).
 */
export interface DispatcherDeps {
  readonly log: Log;
  readonly shards: Shards;
  readonly groupId: string;
  readonly memberId?: string;
  readonly maxInFlightBatches?: number;
  readonly pollRecords?: number;
  /** decodes record values (Confluent framing + schema validation, or plain JSON) */
  readonly decode: (bytes: Uint8Array) => unknown;
  /** an undecodable record, for the input topic's dead-letter topic */
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onConsumed?: (count: number) => void;
  readonly now: () => number;
}

interface InFlightBatch {
  readonly id: number;
  readonly waitingFor: Set<number>;
  readonly nextOffsets: Map<string, { topic: string; partition: number; offset: number }>;
}

export class Dispatcher {
  private consumer: Consumer | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private nextBatch = 1;
  private readonly inFlight: InFlightBatch[] = [];
  private batchDone: (() => void) | undefined;
  consumed = 0;
  committed = 0;

  constructor(private readonly deps: DispatcherDeps) {}

  start(): void {
    this.consumer = this.deps.log.consumer({
      groupId: this.deps.groupId,
      topics: [Topics.sensorsRaw],
      startFrom: "earliest",
      ...(this.deps.memberId ? { memberId: this.deps.memberId } : {}),
      rebalance: { onRevoked: () => this.settle() },
    });
    this.running = true;
    this.loop = this.run();
  }

  /** a worker answered a batch mark */
  markDone(worker: number, batch: number): void {
    const entry = this.inFlight.find((b) => b.id === batch);
    if (!entry) return;
    entry.waitingFor.delete(worker);
    this.batchDone?.();
  }

  /** replay a restarted worker's partitions from their committed offsets */
  async replayWorker(worker: number): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    // The worker's in-flight records are lost with it: its batches stop waiting for it and will
    // not commit its partitions, which are read again from the committed offsets.
    for (const batch of this.inFlight) {
      batch.waitingFor.delete(worker);
      for (const [key, position] of batch.nextOffsets)
        if (this.deps.shards.workerOf(position.partition) === worker) batch.nextOffsets.delete(key);
    }
    for (const tp of consumer.assignment()) {
      if (this.deps.shards.workerOf(tp.partition) !== worker) continue;
      const committed = (await consumer.committed(tp)) ?? 0;
      consumer.seek({ ...tp, offset: committed });
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.batchDone?.();
    await this.loop;
    await this.settle();
    await this.consumer?.close();
  }

  /** wait for every in-flight batch and commit it */
  private async settle(): Promise<void> {
    const deadline = this.deps.now() + 30_000;
    while (this.inFlight.length > 0 && this.deps.now() < deadline) {
      await this.commitCompleted();
      if (this.inFlight.length > 0) await this.waitForBatch(100);
    }
  }

  private waitForBatch(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.batchDone = undefined;
        resolve();
      }, timeoutMs);
      this.batchDone = () => {
        clearTimeout(timer);
        this.batchDone = undefined;
        resolve();
      };
    });
  }

  private async commitCompleted(): Promise<void> {
    const offsets = new Map<string, { topic: string; partition: number; offset: number }>();
    while (this.inFlight.length > 0 && this.inFlight[0]!.waitingFor.size === 0) {
      for (const [key, position] of this.inFlight.shift()!.nextOffsets) offsets.set(key, position);
    }
    if (offsets.size === 0 || !this.consumer) return;
    await this.consumer.commit([...offsets.values()]);
    this.committed += offsets.size;
  }

  private async run(): Promise<void> {
    const consumer = this.consumer!;
    const maxInFlight = this.deps.maxInFlightBatches ?? 8;
    while (this.running) {
      await this.commitCompleted();
      if (this.inFlight.length >= maxInFlight) {
        await this.waitForBatch(50);
        continue;
      }
      const records = await consumer.poll({ maxRecords: this.deps.pollRecords ?? 1000, timeoutMs: 50 });
      if (records.length === 0) continue;
      await this.dispatch(records);
    }
  }

  private async dispatch(records: readonly LogRecord[]): Promise<void> {
    const { shards } = this.deps;
    const batch: InFlightBatch = { id: this.nextBatch++, waitingFor: new Set(), nextOffsets: new Map() };
    for (const record of records) {
      batch.nextOffsets.set(`${record.topic}/${record.partition}`, {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset + 1,
      });
      const reading = this.decode(record);
      if (!reading) continue;
      const worker = shards.workerOf(record.partition);
      while (!shards.sendReading(worker, reading)) {
        shards.flush();
        await shards.waitForSpace(worker, 100);
      }
      batch.waitingFor.add(worker);
    }
    for (const worker of batch.waitingFor) {
      while (!shards.sendMark(worker, batch.id)) {
        shards.flush();
        await shards.waitForSpace(worker, 100);
      }
    }
    shards.flush();
    this.inFlight.push(batch);
    this.consumed += records.length;
    this.deps.onConsumed?.(records.length);
  }

  private decode(record: LogRecord): SensorReadingRecord | undefined {
    const source = `log:${record.topic}/${record.partition}@${record.offset}`;
    const reject = (code: DeadLetter["code"], reason: string) => {
      this.deps.onDeadLetter(
        deadLetter(source, code, reason, record.value ?? new Uint8Array(), this.deps.now()),
        record.topic,
      );
      return undefined;
    };
    if (record.value === null) return reject(ErrorCodes.DECODE_FAILED, "tombstone on a data topic");
    let json: unknown;
    try {
      json = this.deps.decode(record.value);
    } catch (error) {
      // whatever the decoder throws, the record is refused with its reason, never a crash
      return isPlatformError(error)
        ? reject(error.code, error.message)
        : reject(ErrorCodes.DECODE_FAILED, error instanceof Error ? error.message : String(error));
    }
    const parsed = SensorReading.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reject(
        ErrorCodes.SCHEMA_VIOLATION,
        `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
      );
    }
    const reading = parsed.data;
    const values = measurementsOf(reading);
    const ingested = record.headers.find((h) => h.key === "ingested_at");
    return {
      sensorType: reading.type,
      sensorId: reading.sensor_id,
      partition: record.partition,
      offset: record.offset,
      eventTime: Date.parse(reading.timestamp),
      values: MEASUREMENTS[reading.type].map((name) => values[name]!),
      flags: 0,
      ingestedAt: ingested ? Number(ingested.value) : record.timestamp,
    };
  }
}
