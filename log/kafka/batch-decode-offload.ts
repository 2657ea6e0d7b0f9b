import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { CrossedBatches, DecodeReply, DecodeRequest } from "./batch-decode-thread.ts";
import {
  type BatchSource,
  DEFAULT_DECODE_LIMITS,
  type DecodedBatches,
  type DecodeLimits,
  type ReadBatches,
  readBatches,
  recordsOfBatches,
} from "./record-batch-decoder.ts";

/**
 * A Fetch response's partitions decoded with the batch stage (CRC-32C, decompression) on a thread
 * of its own, so the consumer's thread, which in a node also validates and dispatches every
 * record, keeps only the record stage (the records, which must be its own objects). As Kafka's
 * Java consumer, which decompresses on the thread that polls but leaves the socket to a network
 * thread: here the network stays on the consumer's thread and the per-byte work moves.
 *
 * Only a response of at least `minBytes` (the log's `decodeThreadBytes`) goes across: a trickle's small fetches (a live node at
 * a few thousand readings a second) are decoded in place, where the hop would add latency and
 * save nothing. The bytes cross as a copy of their own (the response's view may share a socket
 * chunk), transferred, and come back as each batch's body, transferred too. A thread that failed
 * or died decodes nothing more: that response and every later one are decoded in place (the
 * original bytes are still here), so a fault there never loses or repeats a record.
 */

/** a backlog's fetch (12 partitions of up to 1 MiB) crosses; a live node's few KiB do not */
export const DEFAULT_OFFLOAD_MIN_BYTES = 128 * 1024;

interface Pending {
  resolve(results: readonly CrossedBatches[]): void;
  reject(error: Error): void;
}

export class BatchDecodeThread {
  private worker: Worker | undefined;
  private broken: string | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** responses decoded there and in place, for tests and the benchmark */
  readonly counts = { offloaded: 0, inPlace: 0, fellBack: 0 };

  /**
   * each source's records, as `decodeRecordBatches` makes them, in the sources' order; on the
   * thread when their bytes reach `minBytes` (the smallest response worth the hop)
   */
  async decode(
    sources: readonly BatchSource[],
    limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
    minBytes = DEFAULT_OFFLOAD_MIN_BYTES,
  ): Promise<DecodedBatches[]> {
    let bytes = 0;
    for (const source of sources) bytes += source.bytes.byteLength;
    if (sources.length === 0 || bytes < minBytes || this.broken !== undefined) {
      this.counts.inPlace++;
      return sources.map((source) => recordsOfBatches(source, readBatches(source, limits)));
    }
    let crossedBack: readonly CrossedBatches[];
    try {
      crossedBack = await this.request(sources, limits);
    } catch (error) {
      // the thread is gone: this response is decoded here, from the bytes still held
      this.counts.fellBack++;
      this.broken ??= error instanceof Error ? error.message : String(error);
      return sources.map((source) => recordsOfBatches(source, readBatches(source, limits)));
    }
    this.counts.offloaded++;
    return sources.map((source, i) => recordsOfBatches(source, readBatchesOf(source, crossedBack[i]!)));
  }

  /** why the thread is no longer used, if it is not */
  get failure(): string | undefined {
    return this.broken;
  }

  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.broken ??= "closed";
    this.failAll("the batch decode thread was closed");
    worker?.terminate();
  }

  private request(sources: readonly BatchSource[], limits: DecodeLimits): Promise<readonly CrossedBatches[]> {
    const worker = this.started();
    const id = this.nextId++;
    const transfer: ArrayBuffer[] = [];
    const request: DecodeRequest = {
      id,
      limits,
      sources: sources.map((source) => {
        const own = new Uint8Array(source.bytes.byteLength);
        own.set(source.bytes);
        transfer.push(own.buffer);
        return { ...source, bytes: own };
      }),
    };
    const answered = new Promise<readonly CrossedBatches[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    // a decode in flight keeps the process alive; an idle thread does not
    if (this.pending.size === 1) worker.ref();
    worker.postMessage(request, transfer);
    return answered;
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL("./batch-decode-thread.ts", import.meta.url).href);
    worker.addEventListener("message", (event: MessageEvent<DecodeReply>) => this.onReply(event.data));
    worker.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      this.onDied(event.message);
    });
    worker.addEventListener("close", () => this.onDied("the batch decode thread exited"));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private onReply(reply: DecodeReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ("failure" in reply) pending.reject(new Error(reply.failure));
    else pending.resolve(reply.results);
  }

  private onDied(reason: string): void {
    this.broken ??= reason;
    this.worker = undefined;
    this.failAll(reason);
  }

  private failAll(reason: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const pending of waiting) pending.reject(new Error(reason));
  }
}

/** the thread's answer as the record stage takes it: its corrupt batch's error made here again */
function readBatchesOf(source: BatchSource, crossed: CrossedBatches): ReadBatches {
  if (crossed.corrupt === undefined) return { batches: crossed.batches, nextOffset: crossed.nextOffset };
  const { offset, message, details } = crossed.corrupt;
  const error = new PlatformError(ErrorCodes.LOG_BATCH_CORRUPT, message, {
    details: (details as Record<string, unknown> | undefined) ?? {
      topic: source.topic,
      partition: source.partition,
      offset,
    },
  });
  return { batches: crossed.batches, nextOffset: crossed.nextOffset, corrupt: { offset, error } };
}

let shared: BatchDecodeThread | undefined;

/** one thread per process, started at the first response large enough, shared by every consumer */
export function sharedBatchDecodeThread(): BatchDecodeThread {
  shared ??= new BatchDecodeThread();
  return shared;
}
