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
  /**
   * Kafka's max.request.size: a flush larger than this goes out as several produce requests, one
   * after another, each at most this many bytes of records (one record larger than it alone), so
   * no partition's batch passes the broker's message.max.bytes. Default: no split.
   */
  readonly requestBytes?: number;
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
    const messages = batch.length === 1 ? batch[0]!.messages : batch.flatMap((pending) => pending.messages);
    try {
      const offsets = new Array<number>(messages.length);
      // regression: a backlog's flush went out as one request, and a partition's batch of it
      // passed the broker's 1 MiB (MESSAGE_TOO_LARGE); the requests go one after another, so
      // each partition's records keep their order and the idempotent producer's sequences
      const limit = this.options.requestBytes ?? Number.POSITIVE_INFINITY;
      for (let start = 0; start < messages.length; ) {
        let end = start + 1;
        let bytes = messageBytes(messages[start]!);
        while (end < messages.length && bytes + messageBytes(messages[end]!) <= limit)
          bytes += messageBytes(messages[end++]!);
        const request = start === 0 && end === messages.length ? messages : messages.slice(start, end);
        const result = await this.producer.send({ messages: request });
        placeOffsets(result.offsets ?? [], request, offsets, start);
        start = end;
      }
      let at = 0;
      for (const pending of batch) {
        const count = pending.messages.length;
        pending.resolve(batch.length === 1 ? offsets : offsets.slice(at, at + count));
        at += count;
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}

/**
 * Each record's offset from a send's answer: per topic, the base offset of each partition the
 * send wrote to; a record's offset is that base plus the records before it in the same send and
 * partition (-1 where the send reported no base offset for its partition).
 */
function placeOffsets(
  written: readonly { topic: string; partition: number; offset: bigint }[],
  request: readonly MessageToProduce[],
  offsets: number[],
  from: number,
): void {
  const next = new Map<string, number[]>();
  for (const { topic, partition, offset } of written) {
    let partitions = next.get(topic);
    if (partitions === undefined) {
      partitions = [];
      next.set(topic, partitions);
    }
    partitions[partition] = Number(offset);
  }
  // an append's records are mostly for one topic: its partitions are looked up once per run
  let topic: string | undefined;
  let partitions: number[] | undefined;
  for (let i = 0; i < request.length; i++) {
    const message = request[i]!;
    if (message.topic !== topic) {
      topic = message.topic;
      partitions = next.get(topic);
    }
    const partition = message.partition ?? 0;
    const offset = partitions?.[partition];
    if (offset === undefined) {
      offsets[from + i] = -1; // no base offset for it: the send was not acknowledged per partition
      continue;
    }
    offsets[from + i] = offset;
    partitions![partition] = offset + 1;
  }
}

/** a record's bytes in a request, as Kafka's producer sizes it: key, value, headers and ~32 of framing */
function messageBytes(message: MessageToProduce): number {
  let bytes = 32 + byteLength(message.key) + byteLength(message.value);
  const headers = message.headers;
  if (headers instanceof Map)
    for (const [key, value] of headers) bytes += byteLength(key) + byteLength(value) + 8;
  else if (headers !== undefined)
    for (const [key, value] of Object.entries(headers)) bytes += key.length * 3 + byteLength(value) + 8;
  return bytes;
}

function byteLength(part: unknown): number {
  if (part === undefined || part === null) return 0;
  if (typeof part === "string") return part.length * 3;
  return (part as { byteLength?: number }).byteLength ?? 0;
}
