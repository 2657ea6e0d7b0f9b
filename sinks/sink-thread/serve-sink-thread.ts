import type { DeadLetter } from "../../messages/dead-letter.ts";
import type { TableSinkStats } from "../table-sink.ts";
import {
  crossed,
  type SinkThreadCommand,
  type SinkThreadEvent,
  STATS_EVERY_MS,
} from "./sink-thread-protocol.ts";

/** what a sink thread's entry builds from its setup */
export interface SinkThreadParts {
  stats(): TableSinkStats[];
  /** stops every sink and closes what they wrote to and read from; resolves with what failed to */
  stop(): Promise<readonly unknown[]>;
}

/** how the entry's sinks report to the main thread */
export interface SinkThreadReport {
  deadLetter(letter: DeadLetter, topic: string): void;
  /** a sink stopped on a failure it cannot recover from */
  fail(error: unknown): void;
}

const scope = globalThis as unknown as {
  postMessage(message: SinkThreadEvent): void;
  addEventListener(
    type: "message",
    listener: (event: MessageEvent<SinkThreadCommand<unknown>>) => void,
  ): void;
};

/**
 * The thread's side of `sink-thread-protocol.ts`, for an entry module: `open` builds the sinks
 * (its own log handle, its own writers) when the main thread says start; their stats go back every
 * STATS_EVERY_MS, their dead letters and failures as they happen; stop stops them and answers.
 */
export function serveSinkThread<Setup>(
  open: (setup: Setup, report: SinkThreadReport) => Promise<SinkThreadParts>,
): void {
  let opening: Promise<SinkThreadParts | undefined> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const report: SinkThreadReport = {
    deadLetter: (letter, topic) => scope.postMessage({ type: "dead-letter", letter, topic }),
    fail: (error) => scope.postMessage({ type: "failed", failure: crossed(error), duringStart: false }),
  };
  scope.addEventListener("message", (event) => {
    const command = event.data;
    if (command.type === "start") {
      opening ??= open(command.setup as Setup, report).then(
        (parts) => {
          scope.postMessage({ type: "stats", stats: parts.stats() });
          scope.postMessage({ type: "started" });
          timer = setInterval(
            () => scope.postMessage({ type: "stats", stats: parts.stats() }),
            STATS_EVERY_MS,
          );
          return parts;
        },
        (error: unknown) => {
          scope.postMessage({ type: "failed", failure: crossed(error), duringStart: true });
          return undefined;
        },
      );
      return;
    }
    clearInterval(timer);
    const stopping = (opening ?? Promise.resolve(undefined)).then(async (parts) => {
      const failures = parts ? await parts.stop() : [];
      if (parts) scope.postMessage({ type: "stats", stats: parts.stats() });
      scope.postMessage({ type: "stopped", incomplete: failures.map(crossed) });
    });
    stopping.catch((error: unknown) => scope.postMessage({ type: "stopped", incomplete: [crossed(error)] }));
  });
}
