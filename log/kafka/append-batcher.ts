import type { MessageToProduce, Producer } from "@platformatic/kafka";

/**
 * Linger-and-batch in front of the idempotent producer, as Kafka's own producer does with
 * `linger.ms` and `batch.size`: appends that arrive within `lingerMs` of each other, or while a
 * send is in flight, go out in one produce request. One send is in flight at a time, so records
 * reach each partition in append order, and the idempotent producer's sequence numbers make a
 * retried send land once.
 *
 * The result of a send is the base offset of each (topic, partition) it wrote to; a record's
 * offset is that base plus its index among the send's records for the same partition. Offsets
 * are numbers (exact up to 2^53, past any offset a partition reaches): a BigInt per record was
 * an allocation each, for every record the node produces.
 */

export interface AppendBatcherOptions {
  readonly lingerMs: number;
  /** flush without waiting for the linger once this many bytes are queued */
  readonly batchBytes: number;
}

interface PendingAppend {
  readonly messages: MessageToProduce[];
  readonly bytes: number;
  resolve(offsets: number[]): void;
  reject(error: unknown): void;
}

export class AppendBatcher {
  private queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly options: AppendBatcherOptions,
  ) {}

  /** resolves with each message's offset, in the order given */
  append(messages: MessageToProduce[], bytes: number): Promise<number[]> {
    const { promise, resolve, reject } = Promise.withResolvers<number[]>();
    this.queue.push({ messages, bytes, resolve, reject });
    this.queuedBytes += bytes;
    this.schedule();
    return promise;
  }

  /** wait until everything queued so far is sent */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight !== undefined) {
      if (this.inFlight === undefined) this.flushNow();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight !== undefined) return; // the running send picks the queue up when it ends
    if (this.queuedBytes >= this.options.batchBytes || this.options.lingerMs <= 0) {
      this.flushNow();
      return;
    }
    this.timer ??= setTimeout(() => this.flushNow(), this.options.lingerMs);
  }

  private flushNow(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight !== undefined || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async send(batch: PendingAppend[]): Promise<void> {
    const messages = batch.flatMap((pending) => pending.messages);
    try {
      const result = await this.producer.send({ messages });
      // per topic, the next offset of each partition the send wrote to (its base offset first)
      const next = new Map<string, number[]>();
      for (const written of result.offsets ?? []) {
        let partitions = next.get(written.topic);
        if (partitions === undefined) {
          partitions = [];
          next.set(written.topic, partitions);
        }
        partitions[written.partition] = Number(written.offset);
      }
      for (const pending of batch) {
        const messages = pending.messages;
        const offsets = new Array<number>(messages.length);
        // an append's records are mostly for one topic: its partitions are looked up once per run
        let topic: string | undefined;
        let partitions: number[] | undefined;
        for (let i = 0; i < messages.length; i++) {
          const message = messages[i]!;
          if (message.topic !== topic) {
            topic = message.topic;
            partitions = next.get(topic);
          }
          const partition = message.partition ?? 0;
          const offset = partitions?.[partition];
          if (offset === undefined) {
            offsets[i] = -1; // no base offset for it: the send was not acknowledged per partition
            continue;
          }
          offsets[i] = offset;
          partitions![partition] = offset + 1;
        }
        pending.resolve(offsets);
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
