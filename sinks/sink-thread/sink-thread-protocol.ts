import type { DeadLetter } from "../../messages/dead-letter.ts";
import type { TableSinkStats } from "../table-sink.ts";

/**
 * What crosses between the main thread and a sink thread (`postMessage`, structured clone). The
 * sinks' records never do: the thread reads them from the log with a handle of its own. Only
 * what the main thread reports comes back: the sinks' stats (for /metrics), their dead letters
 * (the main thread's output router appends them), and a failure that stopped a sink for good.
 *
 * main -> thread: {type:"start", setup} once, then {type:"stop"} (the sinks write what they
 * hold within their stop deadline, commit, leave their groups, close the log and the store).
 * thread -> main: {type:"started"} once the sinks run; {type:"stats"} every STATS_EVERY_MS and
 * after each lag refresh; {type:"dead-letter"} per record a sink refused; {type:"failed"} when a
 * sink's loop stopped on a failure it cannot recover from (or the start failed);
 * {type:"stopped", incomplete} when everything is closed, with what did not stop in time.
 */
export type SinkThreadCommand<Setup> =
  | { readonly type: "start"; readonly setup: Setup }
  | { readonly type: "stop" };

export type SinkThreadEvent =
  | { readonly type: "started" }
  | { readonly type: "stats"; readonly stats: readonly TableSinkStats[] }
  | { readonly type: "dead-letter"; readonly letter: DeadLetter; readonly topic: string }
  | { readonly type: "failed"; readonly failure: CrossedError; readonly duringStart: boolean }
  | { readonly type: "stopped"; readonly incomplete: readonly CrossedError[] };

/** an error as it crosses the thread: its code (a PlatformError's) and message, no stack */
export interface CrossedError {
  readonly code: string | undefined;
  readonly message: string;
}

export const STATS_EVERY_MS = 500;

export function crossed(error: unknown): CrossedError {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === "string" ? code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}
