import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { partitionsOf, workerFor } from "../partitioner.ts";
import { createSabRing, openSabRingReader, openSabRingWriter } from "../transport/sab-ring.ts";
import type { RecordReader, RecordWriter } from "../transport.ts";
import type { MainToWorker, WorkerToMain } from "./control.ts";
import { nextTurn } from "./next-turn.ts";

/**
 * The main side of the worker pool: N workers, each owning a contiguous range of partitions
 * (`partitioner.ts`), each with an inbound ring (main -> worker) and an outbound ring
 * (worker -> main), plus the postMessage control channel of `control.ts`.
 *
 * A worker that throws, exits, or misses heartbeats is terminated and restarted with fresh
 * rings (restart intensity as in OTP: at most `intensity` restarts within `periodMs`, then the
 * slot is given up). Records already in the dead worker's rings are lost; records written to
 * `writerTo(i)` after the crash wait in the fresh ring for the new worker. The integrator
 * re-dispatches the worker's partitions from the log on `worker-restarted` (at-least-once).
 */
export interface WorkerPoolOptions {
  /** the worker entry module; it calls `connectWorker` */
  readonly entry: string | URL;
  readonly partitions: number;
  /** default: navigator.hardwareConcurrency */
  readonly workers?: number;
  /** data bytes per ring (power of two); default 1 MiB */
  readonly ringBytes?: number;
  /** structured-cloneable configuration handed to every worker in `start` */
  readonly config?: unknown;
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  readonly startTimeoutMs?: number;
  readonly restartIntensity?: { readonly intensity: number; readonly periodMs: number };
  /** records a worker wrote to its outbound ring; return false to leave them for later */
  readonly onRecord?: (workerIndex: number, bytes: Uint8Array, offset: number, length: number) => unknown;
  readonly onWorkerRestarted?: (workerIndex: number) => void;
  readonly onAppMessage?: (workerIndex: number, payload: unknown) => void;
}

export type WorkerPoolEvent =
  | {
      readonly type: "worker-started";
      readonly workerIndex: number;
      readonly incarnation: number;
      readonly at: number;
    }
  | {
      readonly type: "worker-crashed";
      readonly workerIndex: number;
      readonly reason: string;
      readonly at: number;
    }
  | {
      readonly type: "worker-restarted";
      readonly workerIndex: number;
      readonly incarnation: number;
      readonly at: number;
    }
  | {
      readonly type: "worker-given-up";
      readonly workerIndex: number;
      readonly reason: string;
      readonly at: number;
    }
  | {
      readonly type: "worker-error";
      readonly workerIndex: number;
      readonly message: string;
      readonly at: number;
    }
  | {
      readonly type: "record-handler-failed";
      readonly workerIndex: number;
      readonly error: unknown;
      readonly at: number;
    };

interface Slot {
  readonly index: number;
  incarnation: number;
  worker: Worker | undefined;
  readonly inbound: SharedArrayBuffer;
  readonly outbound: SharedArrayBuffer;
  writer: RecordWriter;
  reader: RecordReader;
  state: "starting" | "running" | "crashed" | "given-up" | "stopped";
  lastPong: number;
  restarts: number[];
  started: PromiseWithResolvers<void>;
  stopped: PromiseWithResolvers<void>;
}

const DEFAULTS = {
  ringBytes: 1 << 20,
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 5000,
  startTimeoutMs: 10_000,
  restartIntensity: { intensity: 5, periodMs: 60_000 },
};

export class WorkerPool {
  readonly size: number;
  readonly partitions: number;
  private readonly slots: Slot[] = [];
  private readonly listeners = new Set<(event: WorkerPoolEvent) => void>();
  private readonly options: WorkerPoolOptions & typeof DEFAULTS;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private pingSeq = 0;
  private stopping = false;
  private readLoops: Promise<void>[] = [];

  private constructor(options: WorkerPoolOptions) {
    this.options = { ...DEFAULTS, ...options };
    this.size = options.workers ?? Math.max(1, navigator.hardwareConcurrency || 1);
    this.partitions = options.partitions;
    if (!Number.isInteger(this.size) || this.size < 1) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "workers must be a positive integer", {
        details: { workers: this.size },
      });
    }
  }

  /** Start every worker and resolve once all have acknowledged `start`. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    for (let index = 0; index < pool.size; index++) pool.slots.push(pool.freshSlot(index, 0));
    try {
      await Promise.all(pool.slots.map((slot) => pool.launch(slot)));
    } catch (error) {
      await pool.stop(100);
      throw error;
    }
    pool.heartbeat = setInterval(() => pool.checkHeartbeats(), pool.options.heartbeatIntervalMs);
    pool.readLoops = pool.slots.map((slot) => pool.readLoop(slot.index));
    return pool;
  }

  /** The writer of worker `workerIndex`'s inbound ring. Fetch it again after a restart. */
  writerTo(workerIndex: number): RecordWriter {
    const slot = this.slot(workerIndex);
    if (slot.state === "given-up") {
      throw new PlatformError(ErrorCodes.WORKER_CRASHED, "worker was given up after repeated crashes", {
        details: { workerIndex },
      });
    }
    return slot.writer;
  }

  workerForPartition(partition: number): number {
    return workerFor(partition, this.partitions, this.size);
  }

  partitionsOf(workerIndex: number): number[] {
    return partitionsOf(workerIndex, this.partitions, this.size);
  }

  isRunning(workerIndex: number): boolean {
    return this.slot(workerIndex).state === "running";
  }

  /** An `app` control message to one worker. */
  post(workerIndex: number, payload: unknown): void {
    this.slot(workerIndex).worker?.postMessage({ type: "app", payload } satisfies MainToWorker);
  }

  /**
   * Terminate a worker abruptly, as a crash would: the pool handles it like any crash (event,
   * restart with fresh rings within the restart intensity). For failure tests and drills.
   */
  kill(workerIndex: number, reason = "killed on request"): void {
    this.crash(this.slot(workerIndex), reason);
  }

  subscribe(listener: (event: WorkerPoolEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ask every worker to drain and flush, wait up to `timeoutMs`, then terminate them all. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.heartbeat);
    const live = this.slots.filter((slot) => slot.state === "running" || slot.state === "starting");
    for (const slot of live) {
      slot.worker?.postMessage({ type: "stop", reason: "pool stopping" } satisfies MainToWorker);
      slot.writer.flush();
    }
    await withTimeout(Promise.all(live.map((slot) => slot.stopped.promise)), timeoutMs);
    for (const slot of this.slots) this.drainOnce(slot);
    for (const slot of this.slots) {
      slot.worker?.terminate();
      slot.worker = undefined;
      if (slot.state !== "given-up") slot.state = "stopped";
    }
    await Promise.all(this.readLoops);
  }

  private slot(workerIndex: number): Slot {
    const slot = this.slots[workerIndex];
    if (slot === undefined) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "no such worker", { details: { workerIndex } });
    }
    return slot;
  }

  private freshSlot(index: number, incarnation: number, restarts: number[] = []): Slot {
    const inbound = createSabRing(this.options.ringBytes);
    const outbound = createSabRing(this.options.ringBytes);
    const slot: Slot = {
      index,
      incarnation,
      worker: undefined,
      inbound,
      outbound,
      writer: openSabRingWriter(inbound),
      reader: openSabRingReader(outbound),
      state: "starting",
      lastPong: Date.now(),
      restarts,
      started: Promise.withResolvers<void>(),
      stopped: Promise.withResolvers<void>(),
    };
    return slot;
  }

  private async launch(slot: Slot): Promise<void> {
    const worker = new Worker(
      typeof this.options.entry === "string" ? this.options.entry : this.options.entry.href,
    );
    slot.worker = worker;
    const incarnation = slot.incarnation;
    const current = () => this.slots[slot.index] === slot && slot.incarnation === incarnation;
    worker.addEventListener("message", (event: MessageEvent<WorkerToMain>) => {
      if (current()) this.onControl(slot, event.data);
    });
    worker.addEventListener("error", (event) => {
      if (current()) this.crash(slot, `uncaught error: ${(event as ErrorEvent).message}`);
    });
    worker.addEventListener("close", (event) => {
      slot.stopped.resolve();
      if (current()) this.crash(slot, `exited with code ${(event as CloseEvent).code}`);
    });
    worker.postMessage({
      type: "start",
      workerIndex: slot.index,
      incarnation,
      partitions: this.partitions,
      ownedPartitions: this.partitionsOf(slot.index),
      config: this.options.config,
      inbound: slot.inbound,
      outbound: slot.outbound,
    } satisfies MainToWorker);
    const ok = await withTimeout(slot.started.promise, this.options.startTimeoutMs);
    if (!ok) {
      this.crash(slot, "no start acknowledgement in time");
      throw new PlatformError(ErrorCodes.WORKER_CRASHED, "worker did not start in time", {
        details: { workerIndex: slot.index, timeoutMs: this.options.startTimeoutMs },
      });
    }
  }

  private onControl(slot: Slot, message: WorkerToMain): void {
    slot.lastPong = Date.now();
    switch (message.type) {
      case "ack":
        if (message.of === "start") {
          slot.state = "running";
          slot.started.resolve();
          this.emit({
            type: "worker-started",
            workerIndex: slot.index,
            incarnation: slot.incarnation,
            at: Date.now(),
          });
        } else slot.stopped.resolve();
        return;
      case "pong":
        return;
      case "error":
        this.emit({
          type: "worker-error",
          workerIndex: slot.index,
          message: message.message,
          at: Date.now(),
        });
        return;
      case "app":
        this.options.onAppMessage?.(slot.index, message.payload);
        return;
    }
  }

  private crash(slot: Slot, reason: string): void {
    if (slot.state === "crashed" || slot.state === "given-up" || slot.state === "stopped") return;
    slot.state = "crashed";
    slot.worker?.terminate();
    slot.started.resolve(); // unblock a launch waiting for the ack; the state says what happened
    slot.stopped.resolve();
    const at = Date.now();
    this.emit({ type: "worker-crashed", workerIndex: slot.index, reason, at });
    if (this.stopping) return;
    const { intensity, periodMs } = this.options.restartIntensity;
    const restarts = [...slot.restarts.filter((t) => at - t < periodMs), at];
    if (restarts.length > intensity) {
      slot.state = "given-up";
      this.emit({ type: "worker-given-up", workerIndex: slot.index, reason, at });
      return;
    }
    this.drainOnce(slot); // hand on what the dead worker already published
    const next = this.freshSlot(slot.index, slot.incarnation + 1, restarts);
    this.slots[slot.index] = next;
    this.launch(next).then(
      () => {
        if (next.state !== "running") return;
        this.emit({
          type: "worker-restarted",
          workerIndex: next.index,
          incarnation: next.incarnation,
          at: Date.now(),
        });
        this.options.onWorkerRestarted?.(next.index);
      },
      (error: unknown) =>
        this.emit({ type: "worker-error", workerIndex: next.index, message: String(error), at: Date.now() }),
    );
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    const seq = ++this.pingSeq;
    for (const slot of this.slots) {
      if (slot.state !== "running") continue;
      if (now - slot.lastPong > this.options.heartbeatTimeoutMs) this.crash(slot, "missed heartbeats");
      else slot.worker?.postMessage({ type: "ping", seq } satisfies MainToWorker);
    }
  }

  private drainOnce(slot: Slot): number {
    const onRecord = this.options.onRecord;
    if (onRecord === undefined) return 0;
    try {
      return slot.reader.drain((bytes, offset, length) => onRecord(slot.index, bytes, offset, length));
    } catch (error) {
      this.emit({ type: "record-handler-failed", workerIndex: slot.index, error, at: Date.now() });
      return 1;
    }
  }

  private async readLoop(workerIndex: number): Promise<void> {
    while (!this.stopping) {
      const slot = this.slots[workerIndex]!;
      if (slot.state === "given-up") return;
      if (this.drainOnce(slot) === 0) await slot.reader.waitForData(100);
      else await nextTurn();
    }
  }

  private emit(event: WorkerPoolEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

async function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
