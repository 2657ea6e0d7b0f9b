import type { Log, ProducerRecord } from "./log.ts";

/** a record to append once its value is encoded */
export interface PendingAppend {
  readonly topic: string;
  /** the topic whose value schema encodes the record, when not its own */
  readonly schemaTopic?: string;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

export interface BatchedAppendsDeps {
  readonly log: Log;
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array> | Uint8Array;
  readonly onAppended?: (topic: string, count: number) => void;
  readonly onError: (error: unknown) => void;
  /** how long the first record waits for others; default 50 ms */
  readonly lingerMs?: number;
  /** a batch this large is appended at once; default 2,000 */
  readonly maxBatch?: number;
  /**
   * records waiting at most; past it the oldest are shed and counted in `dropped`. Only for a
   * feed that cannot be paused (market data); unbounded by default, for outputs whose producer
   * waits on `flush()` before it counts them as sent
   */
  readonly maxQueued?: number;
}

/**
 * Records on their way to the log, batched: a batch goes when it is full or has lingered, and
 * `flush()` makes everything enqueued so far durable. Two kinds of writer share it: the market
 * ingest (sources/market/market-ingest.ts), and the outputs of single-owner actors
 * (sinks/market-outputs.ts, sinks/symbol-news-outputs.ts), whose engine calls `flush()` before
 * it commits input offsets and saves actor state, so an output the saved state already counts is
 * never lost (engine/repartitioned-aggregates.ts). Appends stay in order; a failed append keeps
 * its batch for the next flush (the writers will not enqueue those again) and fails the flush
 * that waited on it, so that checkpoint does not commit. A record its schema refuses would be
 * refused for ever: it is reported and left out, not retried.
 */
export class BatchedAppends {
  private queue: PendingAppend[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private appending: Promise<void> = Promise.resolve();
  /** records shed because more than `maxQueued` waited */
  dropped = 0;

  constructor(private readonly deps: BatchedAppendsDeps) {}

  enqueue(item: PendingAppend): void {
    this.queue.push(item);
    const max = this.deps.maxQueued;
    if (max !== undefined && this.queue.length > max) {
      const shed = this.queue.length - max;
      this.queue.splice(0, shed);
      this.dropped += shed;
    }
    if (this.queue.length >= (this.deps.maxBatch ?? 2000)) {
      this.flush().catch((error) => this.deps.onError(error));
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error) => this.deps.onError(error));
    }, this.deps.lingerMs ?? 50);
  }

  /** everything enqueued so far is durable when this resolves; rejects if an append failed */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    const run = this.appending.then(() => this.append(batch));
    this.appending = run.catch((error) => this.deps.onError(error));
    return run;
  }

  private async append(batch: readonly PendingAppend[]): Promise<void> {
    if (batch.length === 0) return;
    const records: ProducerRecord[] = [];
    for (const item of batch) {
      let value: Uint8Array;
      try {
        value = await this.deps.encode(item.schemaTopic ?? item.topic, item.value);
      } catch (error) {
        this.deps.onError(error);
        continue;
      }
      records.push({ topic: item.topic, key: item.key, value, timestamp: item.timestamp });
    }
    try {
      await this.deps.log.append(records);
    } catch (error) {
      this.queue = [...batch, ...this.queue];
      throw error;
    }
    const byTopic = new Map<string, number>();
    for (const r of records) byTopic.set(r.topic, (byTopic.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of byTopic) this.deps.onAppended?.(topic, n);
  }
}
