import type { MessageToProduce, Producer } from "@platformatic/kafka";

/**
 * Linger-and-batch in front of the idempotent producer, as Kafka's own producer does with
 * `linger.ms` and `batch.size`: appends that arrive within `lingerMs` of each other, or while a
 * send is in flight, go out in one produce request. One send is in flight at a time, so records
 * reach each partition in append order, and the idempotent producer's sequence numbers make a
 * retried send land once.
 *
 * The result of a send is the base offset of each (topic, partition) it wrote to; a record's
 * offset is that base plus its index among the send's records for the same partition.
 */

export interface AppendBatcherOptions {
  readonly lingerMs: number;
  /** flush without waiting for the linger once this many bytes are queued */
  readonly batchBytes: number;
}

interface PendingAppend {
  readonly messages: MessageToProduce[];
  readonly bytes: number;
  resolve(offsets: bigint[]): void;
  reject(error: unknown): void;
}

const slotOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

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
  append(messages: MessageToProduce[], bytes: number): Promise<bigint[]> {
    const { promise, resolve, reject } = Promise.withResolvers<bigint[]>();
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
      const base = new Map<string, bigint>();
      for (const written of result.offsets ?? [])
        base.set(slotOf(written.topic, written.partition), written.offset);
      const next = new Map<string, bigint>();
      for (const pending of batch) {
        const offsets = pending.messages.map((message) => {
          const slot = slotOf(message.topic, message.partition ?? 0);
          const offset = next.get(slot) ?? base.get(slot) ?? -1n;
          next.set(slot, offset + 1n);
          return offset;
        });
        pending.resolve(offsets);
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
