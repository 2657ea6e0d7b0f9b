/**
 * The control channel between the main thread and a pool worker (postMessage, structured
 * clone). Hot records never travel here; they use the rings handed over in `start`.
 *
 * Sequence: main posts `start` (with the worker's two rings), the worker answers `ack start`
 * once its handlers ran; main pings every heartbeat interval and expects `pong`; `stop` asks the
 * worker to drain and flush, answered by `ack stop`. `app` carries integrator messages either way.
 */
export type MainToWorker =
  | {
      readonly type: "start";
      readonly workerIndex: number;
      /** counts restarts of this worker slot: 0 first, then 1, 2, ... */
      readonly incarnation: number;
      readonly partitions: number;
      readonly ownedPartitions: readonly number[];
      readonly config: unknown;
      /** main -> worker records */
      readonly inbound: SharedArrayBuffer;
      /** worker -> main records */
      readonly outbound: SharedArrayBuffer;
    }
  | { readonly type: "stop"; readonly reason: string }
  | { readonly type: "ping"; readonly seq: number }
  | { readonly type: "app"; readonly payload: unknown };

export type WorkerToMain =
  | { readonly type: "ack"; readonly of: "start" | "stop" }
  | { readonly type: "pong"; readonly seq: number }
  | { readonly type: "error"; readonly message: string; readonly code?: string; readonly fatal: boolean }
  | { readonly type: "app"; readonly payload: unknown };
