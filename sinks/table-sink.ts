import { withinStopDeadline } from "../engine/stop-deadline.ts";
import type { Consumer, Log, LogRecord, TopicPartition } from "../log/log.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import { type ErrorCode, ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import { PendingBatch } from "./pending-batch.ts";
import type { SinkTarget } from "./sink-target.ts";

/**
 * The generic table sink: one consumer group per sink (`<app>-sink-<name>`) reads its topics
 * from the log, turns each record into rows, and writes them to a `SinkTarget` in batches, as
 * Kafka Connect's sink tasks do:
 *
 * - a batch is written when it holds `batchSize` records or its first record waited `lingerMs`;
 * - offsets are committed only after the target's write resolved, so what the sink
 *   acknowledged to the log is in the target; a crash between the two replays the batch, which
 *   an idempotent target absorbs (see `sink-target.ts`);
 * - a write that fails is retried with exponential back-off and jitter, and nothing new is
 *   polled while a batch is unwritten: a target that is down holds the sink where it is (its lag
 *   grows and shows in /metrics) without holding anything else on the node;
 * - a record that cannot be decoded or mapped is a dead letter with its reason, and its offset
 *   is committed with the batch (nothing vanishes, nothing blocks the partition);
 * - `stop()` writes what is pending if the target answers, and gives up within the stop
 *   deadline otherwise (what it did not commit is read again on the next start).
 */
export interface TableSinkOptions<Row> {
  /** the sink's name: its consumer group is `<applicationId>-sink-<name>` */
  readonly name: string;
  readonly applicationId: string;
  readonly log: Log;
  readonly topics: readonly string[];
  /** record value bytes -> value (the node's codec) */
  readonly decode: (bytes: Uint8Array) => unknown;
  /**
   * Brings the registry `decode` reads schemas from up to date (the node's codec's `refresh`): a
   * value framed with a schema registered elsewhere after this process read the registry is read
   * again after it, and is a dead letter (UNKNOWN_SCHEMA) only if its schema is still unknown.
   */
  readonly refreshSchemas?: () => Promise<void>;
  /** a decoded value -> its rows; throws (a PlatformError with a code) for a value it refuses */
  readonly toRows: (value: unknown, record: LogRecord) => readonly Row[];
  readonly target: SinkTarget<Row>;
  /** records per batch; default 5,000 */
  readonly batchSize?: number;
  /** how long the first record of a batch waits for more; default 500 ms */
  readonly lingerMs?: number;
  /** back-off between failed writes; default 100 ms doubling to 10 s */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  /** a write or commit that failed and will be retried (the target or the log is down) */
  readonly onTransientError?: (error: unknown) => void;
  /** a failure the sink cannot recover from: its loop stopped */
  readonly onError: (error: unknown) => void;
  readonly stopDeadlineMs?: number;
  readonly now?: () => number;
}

export interface TableSinkStats {
  readonly name: string;
  /** rows the target acknowledged */
  readonly rows: number;
  readonly batches: number;
  /** writes that failed (each retry counts) */
  readonly writeFailures: number;
  readonly deadLetters: number;
  /** records polled, not yet written */
  readonly pending: number;
  /** a batch is waiting for the target (back-pressure) */
  readonly blocked: boolean;
  /** records in the owned partitions not yet committed, as of the last `refreshLag` */
  readonly lag: number;
}

/**
 * a poll waits at most this long, so a stop is noticed soon without a way to abort the poll, and
 * a lingering batch polls at least this often, so a rebalance is noticed soon too
 */
const MAX_POLL_WAIT_MS = 250;

export class TableSink<Row> {
  readonly groupId: string;
  private readonly consumer: Consumer;
  private readonly pending = new PendingBatch<Row>();
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly retry: { readonly initialMs: number; readonly maxMs: number };
  private readonly now: () => number;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private counts = { rows: 0, batches: 0, writeFailures: 0, deadLetters: 0, lag: 0 };
  private blocked = false;

  constructor(private readonly options: TableSinkOptions<Row>) {
    this.groupId = `${options.applicationId}-sink-${options.name}`;
    this.batchSize = options.batchSize ?? 5000;
    this.lingerMs = options.lingerMs ?? 500;
    this.retry = options.retry ?? { initialMs: 100, maxMs: 10_000 };
    this.now = options.now ?? Date.now;
    this.consumer = options.log.consumer({
      groupId: this.groupId,
      topics: options.topics,
      startFrom: "earliest",
      memberId: `sink-${options.name}`,
      rebalance: {
        // what was polled from a lost partition is its next owner's to write: nothing committed
        onRevoked: (partitions) => {
          this.pending.drop(partitions);
        },
      },
    });
  }

  /** starts the poll-write-commit loop */
  start(): this {
    this.loop ??= this.run().catch((error: unknown) => {
      if (!this.stopping.signal.aborted) this.options.onError(error);
    });
    return this;
  }

  stats(): TableSinkStats {
    return { name: this.options.name, ...this.counts, pending: this.pending.records, blocked: this.blocked };
  }

  /** the records of the owned partitions past the group's committed offsets (for /metrics) */
  async refreshLag(): Promise<number> {
    const owned = this.consumer.assignment();
    let lag = 0;
    for (const topic of new Set(owned.map((tp) => tp.topic))) {
      const committed = await this.options.log.groupOffsets(this.groupId, topic);
      for (const tp of owned.filter((p) => p.topic === topic)) {
        const end = await this.options.log.endOffset(tp);
        lag += Math.max(0, end - (committed.get(tp.partition) ?? 0));
      }
    }
    this.counts.lag = lag;
    return lag;
  }

  /** writes what is pending if the target answers in time, commits, leaves the group */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    const deadline = this.options.stopDeadlineMs;
    try {
      if (this.loop) await withinStopDeadline(this.loop, `sink ${this.options.name}'s last batch`, deadline);
    } finally {
      await withinStopDeadline(this.consumer.close(), `sink ${this.options.name}'s consumer`, deadline);
    }
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      // A batch is under way: let it linger, then take what arrived meanwhile in one poll (Kafka's
      // fetch.max.wait). Polling on every append instead woke each sink for every few records,
      // and a node runs several sinks over the same topics. The sleep is capped so a rebalance
      // is still noticed within MAX_POLL_WAIT_MS.
      const lingering =
        this.pending.records === 0 ? 0 : this.lingerMs - (this.now() - this.pending.startedAt);
      if (lingering > 0) await abortableSleep(Math.min(lingering, MAX_POLL_WAIT_MS), signal);
      if (signal.aborted) break;
      let records: LogRecord[];
      try {
        records = await this.consumer.poll({
          maxRecords: this.batchSize - this.pending.records,
          timeoutMs: this.pending.records === 0 ? Math.min(this.lingerMs, MAX_POLL_WAIT_MS) : 0,
        });
      } catch (error) {
        if (signal.aborted) break;
        // the log is unreachable or rebalancing: what is pending stays pending, try again shortly
        this.options.onTransientError?.(error);
        await abortableSleep(this.retry.initialMs * 5, signal);
        continue;
      }
      // one catch-up per poll covers all of its records (each schema was registered before its
      // record was appended), so a flood of unknown ids costs a read per poll, not per record
      let refreshed = this.options.refreshSchemas === undefined;
      for (const record of records) {
        if (this.add(record, refreshed)) continue;
        await this.options.refreshSchemas?.();
        refreshed = true;
        this.add(record, true);
      }
      const due =
        this.pending.records >= this.batchSize ||
        (this.pending.records > 0 && this.now() - this.pending.startedAt >= this.lingerMs);
      if (due) await this.flush(false);
    }
    // stopping: one last attempt at what is pending, no retries
    if (this.pending.records > 0) await this.flush(true);
  }

  /**
   * Adds a record's rows to the pending batch, or a dead letter where it has none; false (and
   * nothing added) for a value whose schema is unknown while `final` is false, to be tried again
   * once the registry caught up.
   */
  private add(record: LogRecord, final: boolean): boolean {
    const now = this.now();
    if (record.value === null) {
      this.pending.add(record.topic, record.partition, record.offset, [], now);
      return true;
    }
    let rows: readonly Row[];
    try {
      rows = this.options.toRows(this.options.decode(record.value), record);
    } catch (error) {
      if (!final && isPlatformError(error, ErrorCodes.UNKNOWN_SCHEMA)) return false;
      const code: ErrorCode = isPlatformError(error) ? error.code : ErrorCodes.DECODE_FAILED;
      const reason = error instanceof Error ? error.message : String(error);
      this.counts.deadLetters++;
      this.options.onDeadLetter(
        deadLetter(
          `log:${record.topic}/${record.partition}@${record.offset}`,
          code,
          reason,
          record.value,
          now,
        ),
        record.topic,
      );
      rows = [];
    }
    this.pending.add(record.topic, record.partition, record.offset, rows, now);
    return true;
  }

  /** writes the pending batch (retrying until it is written, unless `once`), then commits it */
  private async flush(once: boolean): Promise<void> {
    const batch = this.pending.take();
    let backoff = this.retry.initialMs;
    for (;;) {
      try {
        if (batch.rows.length > 0) await this.options.target.write(batch);
        break;
      } catch (error) {
        this.counts.writeFailures++;
        this.options.onTransientError?.(error);
        if (once || this.stopping.signal.aborted) return; // not committed: read again on the next start
        this.blocked = true;
        await abortableSleep(backoff * (0.5 + Math.random() / 2), this.stopping.signal);
        backoff = Math.min(this.retry.maxMs, backoff * 2);
        if (this.stopping.signal.aborted) {
          // one last try within the stop deadline, so a clean stop with the target back loses no time
          once = true;
        }
      }
    }
    this.blocked = false;
    this.counts.rows += batch.rows.length;
    this.counts.batches++;
    const owned = new Set(this.consumer.assignment().map(key));
    const offsets = batch.offsets
      .filter((range) => owned.has(key(range)))
      .map((range) => ({ topic: range.topic, partition: range.partition, offset: range.lastOffset + 1 }));
    if (offsets.length === 0) return;
    try {
      await this.consumer.commit(offsets);
    } catch (error) {
      // the rows are in the target; an uncommitted batch is written again later, idempotently
      this.options.onTransientError?.(
        new PlatformError(ErrorCodes.LOG_BROKER_UNAVAILABLE, `sink ${this.options.name} could not commit`, {
          cause: error,
        }),
      );
    }
  }
}

function key(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
