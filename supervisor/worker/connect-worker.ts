import { openSabRingReader, openSabRingWriter } from "../transport/sab-ring.ts";
import type { RecordReader, RecordWriter } from "../transport.ts";
import type { MainToWorker, WorkerToMain } from "./control.ts";
import { nextTurn } from "./next-turn.ts";

/**
 * The worker side of the pool: call `connectWorker(handlers)` once at the top of a worker
 * entry module. It answers the control channel (start, stop, ping) and, if `onRecord` is given,
 * runs the inbound loop: wait for a batch, hand each record to `onRecord`, flush the outbound
 * ring once per batch. `onRecord` returning false leaves the record in the ring until the
 * outbound ring has room again (back-pressure through the pipeline, nothing dropped).
 */
export interface WorkerContext {
  readonly workerIndex: number;
  readonly incarnation: number;
  readonly partitions: number;
  readonly ownedPartitions: readonly number[];
  readonly config: unknown;
  /** records from main to this worker */
  readonly inbound: RecordReader;
  /** records from this worker to main; flushed after every inbound batch by the loop */
  readonly outbound: RecordWriter;
  /** an `app` control message to main */
  post(payload: unknown): void;
}

export interface WorkerHandlers {
  onStart?(ctx: WorkerContext): void | Promise<void>;
  /** return false to leave the record in the inbound ring until the outbound ring has room */
  onRecord?(bytes: Uint8Array, offset: number, length: number, ctx: WorkerContext): unknown;
  /** finish work in flight; the outbound ring is flushed afterwards */
  onStop?(ctx: WorkerContext): void | Promise<void>;
  onAppMessage?(payload: unknown, ctx: WorkerContext): void | Promise<void>;
}

interface WorkerScope {
  postMessage(message: WorkerToMain): void;
  addEventListener(type: "message", listener: (event: MessageEvent<MainToWorker>) => void): void;
  close(): void;
}

// bounds how long a stop waits for an idle loop to notice it
const IDLE_WAIT_MS = 100;

export function connectWorker(handlers: WorkerHandlers): void {
  const scope = globalThis as unknown as WorkerScope;
  let ctx: WorkerContext | undefined;
  let stopping = false;
  let loopDone: Promise<void> = Promise.resolve();

  const fail = (error: unknown) => {
    scope.postMessage({ type: "error", message: String(error), fatal: true, ...codeOf(error) });
    scope.close(); // main sees the exit and restarts this worker with fresh rings
  };

  const runInbound = async (context: WorkerContext, onRecord: NonNullable<WorkerHandlers["onRecord"]>) => {
    let refused = false;
    const handle = (bytes: Uint8Array, offset: number, length: number) => {
      if (onRecord(bytes, offset, length, context) === false) {
        refused = true;
        return false;
      }
      return true;
    };
    for (;;) {
      refused = false;
      const handled = context.inbound.drain(handle);
      context.outbound.flush();
      if (refused) await context.outbound.waitForSpace(50);
      else if (handled > 0)
        await nextTurn(); // pings and stop get their turn between batches
      else {
        if (stopping) return;
        await context.inbound.waitForData(IDLE_WAIT_MS);
      }
    }
  };

  const onMessage = async (message: MainToWorker) => {
    switch (message.type) {
      case "start": {
        const context: WorkerContext = {
          workerIndex: message.workerIndex,
          incarnation: message.incarnation,
          partitions: message.partitions,
          ownedPartitions: message.ownedPartitions,
          config: message.config,
          inbound: openSabRingReader(message.inbound),
          outbound: openSabRingWriter(message.outbound),
          post: (payload) => scope.postMessage({ type: "app", payload }),
        };
        ctx = context;
        await handlers.onStart?.(context);
        if (handlers.onRecord) loopDone = runInbound(context, handlers.onRecord);
        loopDone.catch(fail);
        scope.postMessage({ type: "ack", of: "start" });
        return;
      }
      case "stop": {
        stopping = true;
        await loopDone;
        if (ctx) {
          await handlers.onStop?.(ctx);
          ctx.outbound.flush();
        }
        scope.postMessage({ type: "ack", of: "stop" });
        return;
      }
      case "ping":
        scope.postMessage({ type: "pong", seq: message.seq });
        return;
      case "app":
        if (ctx) await handlers.onAppMessage?.(message.payload, ctx);
        return;
    }
  };

  scope.addEventListener("message", (event) => {
    onMessage(event.data).catch(fail);
  });
}

function codeOf(error: unknown): { code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? { code } : {};
}
