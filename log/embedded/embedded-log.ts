import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import type {
  Consumer,
  ConsumerOptions,
  Log,
  LogRecord,
  ProducerRecord,
  ReadOptions,
  RecordPosition,
  TopicConfig,
  TopicPartition,
  TopicSpec,
} from "../log.ts";
import { type RetentionPolicy, validRetention, wantedConfig } from "../retention.ts";
import { ChangeNotifier, topicSubject } from "./change-notifier.ts";
import { DataVersion } from "./data-version.ts";
import { EmbeddedConsumer, type GroupTimings } from "./embedded-consumer.ts";
import { GroupStore } from "./group-store.ts";
import { Maintenance, type MaintenanceReport } from "./maintenance.ts";
import { encodeHeaders, type PlacedRecord, RecordStore } from "./record-store.ts";
import { prepareDatabase, type Synchronous } from "./schema.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

export interface EmbeddedLogOptions {
  /** the SQLite file; several processes may share it */
  readonly path: string;
  /** largest key + value + headers in bytes; default 1 MiB (Kafka's max.message.bytes) */
  readonly maxRecordBytes?: number;
  /** FULL (default) fsyncs every commit; NORMAL may lose the last commits on power loss */
  readonly synchronous?: Synchronous;
  /** how long a writer waits for another process's write lock; default 5 s */
  readonly busyTimeoutMs?: number;
  /** default 1 s */
  readonly heartbeatIntervalMs?: number;
  /** default 10 s (Kafka's session.timeout.ms is 45 s; one machine needs less) */
  readonly sessionTimeoutMs?: number;
  /** how often a waiting poll looks for other processes' appends; default 25 ms */
  readonly pollIntervalMs?: number;
  /** compaction and retention period; default 60 s, 0 turns the timer off */
  readonly maintenanceIntervalMs?: number;
  /** how long tombstones outlive compaction; default 24 h (Kafka's delete.retention.ms) */
  readonly tombstoneRetentionMs?: number;
  /** retention of topics that are not compacted; default 7 days for every topic */
  readonly retention?: RetentionPolicy;
  /**
   * who copies the WAL back into the database: "inline" (default, SQLite's own, inside the
   * commit that crosses 1,000 pages) or "background" (a thread of its own, `wal-checkpointer.ts`,
   * so that appends on a busy event loop do not pay for it); ignored for ":memory:"
   */
  readonly checkpoints?: "inline" | "background";
  /**
   * the least time between two group commits (Kafka's linger.ms, at the log): appends that come
   * sooner after a commit wait for the next one and share its transaction; default 0 (every turn
   * of the event loop commits what it gathered). An append never waits longer than this.
   */
  readonly commitIntervalMs?: number;
  /**
   * the most one group commit carries: records, and the size of their keys and values (default
   * 4,000 and 512 KiB, a few ms of the thread; the bytes bind first for records over ~130 B). What waits beyond it goes in a later turn's
   * transaction, so the event loop runs between the two; appends keep their order, and one
   * append is never split (a larger one is a transaction of its own).
   */
  readonly maxTransaction?: { readonly records?: number; readonly bytes?: number };
}

interface PendingAppend {
  readonly placed: readonly PlacedRecord[];
  /** bytes of its keys and values, for the transaction's bound */
  readonly bytes: number;
  readonly resolve: (positions: RecordPosition[]) => void;
  readonly reject: (error: unknown) => void;
}

const MIB = 1024 * 1024;
/**
 * One transaction a turn: its bound times the turns a second is the log's ceiling. The bytes
 * keep a checkpoint's actor states (~700 B each) to ~750 a turn; the records bound was 1,000,
 * which at two records a reading (raw, silver) capped a node at ~500 readings a turn, about its
 * rate at 20k/s on a busy machine (40-50 turns a second), so a backlog never drained.
 */
const DEFAULT_MAX_TRANSACTION = { records: 4000, bytes: MIB / 2 };
const DEFAULT_READ_MAX = 500;
const textEncoder = new TextEncoder();

/** The zero-setup Log adapter: a durable, partitioned log in one bun:sqlite WAL file. */
export class EmbeddedLog implements Log {
  private readonly db: Database;
  private readonly records: RecordStore;
  private readonly groups: GroupStore;
  private readonly dataVersion: DataVersion;
  private readonly maintenance: Maintenance;
  private readonly notifier = new ChangeNotifier();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private readonly roundRobin = new Map<string, number>();
  private readonly maxRecordBytes: number;
  private readonly tombstoneRetentionMs: number;
  private readonly retention: RetentionPolicy;
  private readonly timings: GroupTimings;
  private readonly maintenanceTimer: ReturnType<typeof setInterval> | undefined;
  private readonly checkpointer: WalCheckpointer | undefined;
  private maintenanceFailure: unknown;
  /** appends waiting for this turn's shared transaction */
  private pendingAppends: PendingAppend[] = [];
  private commitScheduled = false;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private readonly commitIntervalMs: number;
  private readonly maxTransaction: { readonly records: number; readonly bytes: number };
  private readonly commits = { transactions: 0, records: 0 };
  private closed = false;

  constructor(options: EmbeddedLogOptions) {
    this.retention = validRetention(options.retention);
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path, { create: true, strict: true });
    prepareDatabase(this.db, options.synchronous ?? "FULL", options.busyTimeoutMs ?? 5000);
    this.dataVersion = new DataVersion(this.db);
    this.records = new RecordStore(this.db, undefined, this.dataVersion);
    if (options.checkpoints === "background" && options.path !== ":memory:")
      this.checkpointer = new WalCheckpointer(this.db, options.path);
    this.groups = new GroupStore(this.db, this.dataVersion);
    this.maintenance = new Maintenance(this.db);
    this.maxRecordBytes = options.maxRecordBytes ?? MIB;
    this.commitIntervalMs = Math.max(0, options.commitIntervalMs ?? 0);
    this.maxTransaction = {
      records: Math.max(1, options.maxTransaction?.records ?? DEFAULT_MAX_TRANSACTION.records),
      bytes: Math.max(1, options.maxTransaction?.bytes ?? DEFAULT_MAX_TRANSACTION.bytes),
    };
    this.tombstoneRetentionMs = options.tombstoneRetentionMs ?? 24 * 60 * 60 * 1000;
    this.timings = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 25,
    };
    const every = options.maintenanceIntervalMs ?? 60_000;
    if (every > 0) {
      this.maintenanceTimer = setInterval(() => this.maintainOnTimer(), every);
      this.maintenanceTimer.unref?.();
    }
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    this.ensureOpen();
    this.records.createTopic(spec, wantedConfig(spec, this.retention));
  }

  async topicConfig(topic: string): Promise<TopicConfig | undefined> {
    this.ensureOpen();
    const stored = this.records.allTopics().find((candidate) => candidate.name === topic);
    return stored && { compacted: stored.compacted, retentionMs: stored.retentionMs };
  }

  async partitions(topic: string): Promise<number | undefined> {
    this.ensureOpen();
    return this.records.lookup(topic)?.partitions;
  }

  async groupOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    this.ensureOpen();
    const offsets = new Map<number, number>();
    const partitions = this.records.lookup(topic)?.partitions ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      const offset = this.groups.committed(groupId, { topic, partition });
      if (offset !== undefined) offsets.set(partition, offset);
    }
    return offsets;
  }

  /**
   * Group commit: the appends of one turn of the event loop (the ingest's batch, the engine's
   * outputs and changelogs, the sinks' dead letters) share one transaction, as a database's group
   * commit shares one log flush. Each caller still resolves only once its records are durable,
   * and a failed transaction fails every append in it (none of their records is written).
   * A transaction is bounded (`maxTransaction`), in order: a node's checkpoint appends thousands
   * of actor states at once (~4 MB at 3,000 sensors), and one transaction of them held the main
   * thread for 20-130 ms, every reading's window update waiting behind it.
   */
  async append(batch: readonly ProducerRecord[]): Promise<RecordPosition[]> {
    this.ensureOpen();
    if (batch.length === 0) return [];
    const now = Date.now();
    const placed = batch.map((record) => this.place(record, now));
    let bytes = 0;
    for (const record of placed) bytes += (record.key?.length ?? 0) + (record.value?.byteLength ?? 0);
    return new Promise((resolve, reject) => {
      this.pendingAppends.push({ placed, bytes, resolve, reject });
      if (!this.commitScheduled) this.scheduleCommit();
    });
  }

  /**
   * The next commit runs on the next turn, or once `commitIntervalMs` has passed since the last
   * one: at a few appends a second nothing waits, under load the transactions (a fixed ~0.1 ms
   * of locking and WAL writing each, on the appender's thread) are capped at 1000 /
   * commitIntervalMs a second and carry more records each.
   */
  private scheduleCommit(): void {
    this.commitScheduled = true;
    const wait = this.lastCommitAt + this.commitIntervalMs - performance.now();
    if (wait >= 1) setTimeout(() => this.commitAppends(), wait);
    else setImmediate(() => this.commitAppends());
  }

  private commitAppends(): void {
    this.commitScheduled = false;
    const waiting = this.nextTransaction();
    if (waiting.length === 0) return;
    this.lastCommitAt = performance.now();
    // the rest waits for a later turn: what else the thread has to do runs between the two
    if (this.pendingAppends.length > 0) this.scheduleCommit();
    if (this.closed) {
      const closed = new PlatformError(ErrorCodes.LOG_CLOSED, "the embedded log closed before the append");
      for (const append of waiting) append.reject(closed);
      return;
    }
    let positions: RecordPosition[];
    try {
      positions = this.records.append(
        waiting.length === 1 ? waiting[0]!.placed : waiting.flatMap((a) => a.placed),
      );
    } catch (error) {
      for (const append of waiting) append.reject(error);
      return;
    }
    this.commits.transactions++;
    this.commits.records += positions.length;
    const topics = new Set<string>();
    let next = 0;
    for (const append of waiting) {
      for (const record of append.placed) topics.add(topicSubject(record.topic.name));
      append.resolve(positions.slice(next, next + append.placed.length));
      next += append.placed.length;
    }
    this.notifier.notify(topics);
  }

  /** group commits so far and the records they carried (records per transaction is the append's cost) */
  commitStats(): { readonly transactions: number; readonly records: number } {
    return { ...this.commits };
  }

  /** the oldest waiting appends, as many as one transaction may carry (at least one) */
  private nextTransaction(): PendingAppend[] {
    let count = 0;
    let records = 0;
    let bytes = 0;
    for (const append of this.pendingAppends) {
      records += append.placed.length;
      bytes += append.bytes;
      if (count > 0 && (records > this.maxTransaction.records || bytes > this.maxTransaction.bytes)) break;
      count++;
    }
    if (count === this.pendingAppends.length) {
      const all = this.pendingAppends;
      this.pendingAppends = [];
      return all;
    }
    return this.pendingAppends.splice(0, count);
  }

  async read(partition: TopicPartition, options: ReadOptions = {}): Promise<LogRecord[]> {
    this.ensureOpen();
    const topic = this.records.requirePartition(partition.topic, partition.partition);
    return this.records.read(
      topic,
      partition.partition,
      Math.max(0, options.fromOffset ?? 0),
      Math.max(1, options.maxRecords ?? DEFAULT_READ_MAX),
    );
  }

  async endOffset(partition: TopicPartition): Promise<number> {
    this.ensureOpen();
    const topic = this.records.requirePartition(partition.topic, partition.partition);
    return this.records.endOffset(topic, partition.partition);
  }

  consumer(options: ConsumerOptions): Consumer {
    this.ensureOpen();
    const consumer = new EmbeddedConsumer(
      {
        records: this.records,
        groups: this.groups,
        dataVersion: this.dataVersion,
        notifier: this.notifier,
        timings: this.timings,
        isClosed: () => this.closed,
        forget: (member) => this.consumers.delete(member),
      },
      options,
    );
    this.consumers.add(consumer);
    return consumer;
  }

  /** compact compacted topics and apply time retention now (also runs on a timer) */
  async maintain(now = Date.now()): Promise<MaintenanceReport> {
    this.ensureOpen();
    try {
      return this.maintenance.run(this.records.allTopics(), now, this.tombstoneRetentionMs);
    } finally {
      this.records.forgetTails();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.maintenanceTimer);
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    // appends already accepted are written before the file closes
    while (this.pendingAppends.length > 0) this.commitAppends();
    this.closed = true;
    this.notifier.wakeAll();
    await this.checkpointer?.stop();
    this.db.close();
  }

  private place(record: ProducerRecord, now: number): PlacedRecord {
    const topic =
      record.partition === undefined
        ? this.records.require(record.topic)
        : this.records.requirePartition(record.topic, record.partition);
    if (record.value !== null && !(record.value instanceof Uint8Array)) {
      throw new PlatformError(
        ErrorCodes.SCHEMA_VIOLATION,
        `record value for ${record.topic} must be bytes or null`,
      );
    }
    const headers = encodeHeaders(record.headers);
    const size = this.sizeOf(record, headers);
    if (size > this.maxRecordBytes) {
      throw new PlatformError(
        ErrorCodes.LOG_RECORD_TOO_LARGE,
        `record of ${size} bytes for ${record.topic} exceeds the limit of ${this.maxRecordBytes} bytes`,
        { details: { topic: record.topic, size, limit: this.maxRecordBytes } },
      );
    }
    return {
      topic,
      partition: record.partition ?? this.partitionOf(topic.name, topic.partitions, record.key),
      key: record.key,
      value: record.value,
      timestamp: record.timestamp ?? now,
      headers,
      // copies: the producer may reuse its header objects, and every consumer shares these
      headerList: record.headers?.map(({ key, value }) => ({ key, value })) ?? [],
      handedOver: record.handedOver === true,
    };
  }

  /** bytes of key + value + headers; UTF-8 is at most 3 bytes per UTF-16 unit, so short records skip encoding */
  private sizeOf(record: ProducerRecord, headers: string | null): number {
    const valueBytes = record.value?.byteLength ?? 0;
    const textUnits = (record.key?.length ?? 0) + (headers?.length ?? 0);
    if (valueBytes + 3 * textUnits <= this.maxRecordBytes) return valueBytes + 3 * textUnits;
    const keyBytes = record.key === null ? 0 : textEncoder.encode(record.key).byteLength;
    return valueBytes + keyBytes + (headers === null ? 0 : textEncoder.encode(headers).byteLength);
  }

  /** Kafka's default partitioner: murmur2 of the key; keyless records round-robin */
  private partitionOf(topic: string, partitions: number, key: string | null): number {
    if (key !== null) return partitionFor(key, partitions);
    const next = this.roundRobin.get(topic) ?? 0;
    this.roundRobin.set(topic, next + 1);
    return next % partitions;
  }

  private maintainOnTimer(): void {
    if (this.closed) return;
    try {
      this.maintenance.run(this.records.allTopics(), Date.now(), this.tombstoneRetentionMs);
      this.records.forgetTails();
    } catch (error) {
      // e.g. the write lock stayed busy; the next tick tries again, and the failure stays visible
      this.maintenanceFailure = error;
    }
  }

  /** the background checkpoint thread, when the log was opened with one */
  walCheckpointer(): WalCheckpointer | undefined {
    return this.checkpointer;
  }

  /** the last failure of the maintenance timer, if any */
  lastMaintenanceFailure(): unknown {
    return this.maintenanceFailure;
  }

  private ensureOpen(): void {
    if (this.closed) throw new PlatformError(ErrorCodes.LOG_CLOSED, "the embedded log is closed");
  }
}

export function openEmbeddedLog(options: EmbeddedLogOptions): EmbeddedLog {
  return new EmbeddedLog(options);
}
