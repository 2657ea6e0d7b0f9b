import { STOP_DEADLINE_MS } from "../../engine/stop-deadline.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { TableSinkStats } from "../table-sink.ts";
import type { CrossedError, SinkThreadCommand, SinkThreadEvent } from "./sink-thread-protocol.ts";

/**
 * Table sinks on a thread of their own (a Bun worker), supervised from the main thread.
 *
 * The sinks need nothing from the hot path but the log: each has its own consumer group and
 * commits its offsets only after its target acknowledged the rows. So the thread opens its own
 * log handle (a connection of its own to the embedded log's file, or a Kafka client) and its own
 * writers, and the main thread keeps only what it reports: the sinks' stats for /metrics, their
 * dead letters, and a failure that stopped one.
 *
 * A thread that dies (an uncaught error, a terminate) is restarted after a back-off, and its
 * sinks resume from their groups' committed offsets: what was written and not committed is
 * written again, which the targets absorb (they are idempotent), so nothing is lost or doubled.
 * As OTP's one_for_one with intensity and period: more than `intensity` deaths within `periodMs`
 * is a failure of the node (`onError`), not a loop of restarts. While the thread is down each
 * sink's last stats are reported `blocked`, so /metrics does not show a dead sink as healthy.
 * Counters (rows, batches, write failures, dead letters) go on from what the dead thread last
 * reported, so a restart of the thread is not a counter reset in /metrics (Prometheus would
 * read a drop as the process restarting); what it counted after its last report is not in them.
 */
export interface SinkThreadOptions<Setup> {
  /** for messages: "time-series sinks" */
  readonly name: string;
  /** the worker's entry module (a URL string), which serves the protocol with `serveSinkThread` */
  readonly entry: string;
  /** what the entry needs to build its sinks (structured-cloneable: the node's configuration) */
  readonly setup: Setup;
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  /** a sink stopped on a failure it cannot recover from, or the thread died too often */
  readonly onError: (error: unknown) => void;
  /** the thread died and will be restarted */
  readonly onRestart?: (error: PlatformError, restarts: number) => void;
  readonly restart?: {
    readonly initialMs: number;
    readonly maxMs: number;
    readonly intensity: number;
    readonly periodMs: number;
  };
  /** how long a stop waits for the thread's sinks to write, commit and close */
  readonly stopDeadlineMs?: number;
}

type SinkCounters = Pick<TableSinkStats, "rows" | "batches" | "writeFailures" | "deadLetters">;

const DEFAULT_RESTART = { initialMs: 200, maxMs: 10_000, intensity: 10, periodMs: 60_000 };

export class SinkThread<Setup> {
  private worker: Worker | undefined;
  private stopping = false;
  private lastStats: readonly TableSinkStats[] = [];
  /** per sink, the counters of the threads that died, added to what the running one reports */
  private readonly earlierThreads = new Map<string, SinkCounters>();
  private running = false;
  private restartCount = 0;
  private readonly deaths: number[] = [];
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly restart: NonNullable<SinkThreadOptions<Setup>["restart"]>;
  private stopped: ((incomplete: readonly CrossedError[]) => void) | undefined;
  private readonly startedWaiters: (() => void)[] = [];

  constructor(private readonly options: SinkThreadOptions<Setup>) {
    this.restart = options.restart ?? DEFAULT_RESTART;
  }

  /** starts the thread; the sinks start in it in the background (see `started`) */
  start(): this {
    if (!this.worker && !this.stopping) this.spawn();
    return this;
  }

  /** resolves once the thread's sinks run (tests; a node does not wait for them) */
  started(): Promise<void> {
    if (this.running) return Promise.resolve();
    return new Promise((resolve) => this.startedWaiters.push(resolve));
  }

  /** the sinks' stats as the thread last sent them; `blocked` while the thread is down */
  stats(): TableSinkStats[] {
    return this.lastStats.map((s) => {
      const before = this.earlierThreads.get(s.name);
      const counted = before
        ? {
            ...s,
            rows: s.rows + before.rows,
            batches: s.batches + before.batches,
            writeFailures: s.writeFailures + before.writeFailures,
            deadLetters: s.deadLetters + before.deadLetters,
          }
        : s;
      return this.running ? counted : { ...counted, blocked: true };
    });
  }

  /** how many times the thread was restarted after it died */
  get restarts(): number {
    return this.restartCount;
  }

  /** terminates the thread abruptly, as a crash would (failure tests and drills) */
  kill(): void {
    this.worker?.terminate();
  }

  /**
   * Asks the thread to stop its sinks (each writes what it holds if its target answers, commits
   * and leaves its group) and waits for it within the stop deadline; then the thread is ended.
   * What was not committed is read again on the next start.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const deadlineMs = this.options.stopDeadlineMs ?? STOP_DEADLINE_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const incomplete = await new Promise<readonly CrossedError[] | undefined>((resolve) => {
      this.stopped = resolve;
      timer = setTimeout(() => resolve(undefined), deadlineMs);
      worker.postMessage({ type: "stop" } satisfies SinkThreadCommand<Setup>);
    });
    clearTimeout(timer);
    this.stopped = undefined;
    this.running = false;
    this.worker = undefined;
    worker.terminate();
    if (incomplete === undefined)
      throw new PlatformError(
        ErrorCodes.LOG_REBALANCE,
        `gave up waiting ${deadlineMs} ms for the ${this.options.name} to stop`,
      );
    if (incomplete.length > 0)
      throw new AggregateError(
        incomplete.map((e) => new PlatformError(codeOf(e), e.message)),
        `the ${this.options.name} did not all stop in time`,
      );
  }

  private spawn(): void {
    const worker = new Worker(this.options.entry);
    this.worker = worker;
    let death: CrossedError | undefined;
    worker.addEventListener("message", (event: MessageEvent<SinkThreadEvent>) => this.onEvent(event.data));
    worker.addEventListener("error", (event: ErrorEvent) => {
      // the thread's own failure: it is ended and restarted below, not the process's
      event.preventDefault();
      death = { code: undefined, message: event.message };
      worker.terminate();
    });
    worker.addEventListener("close", () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.running = false;
      if (this.stopping) {
        // ended while stopping (before it answered): nothing more will come from it
        this.stopped?.([
          { code: ErrorCodes.WORKER_CRASHED, message: `the ${this.options.name} thread ended` },
        ]);
        return;
      }
      this.died(death ?? { code: undefined, message: "the thread ended" });
    });
    worker.postMessage({ type: "start", setup: this.options.setup } satisfies SinkThreadCommand<Setup>);
  }

  private onEvent(event: SinkThreadEvent): void {
    switch (event.type) {
      case "started":
        this.running = true;
        for (const wake of this.startedWaiters.splice(0)) wake();
        return;
      case "stats":
        this.lastStats = event.stats;
        return;
      case "dead-letter":
        this.options.onDeadLetter(event.letter, event.topic);
        return;
      case "failed": {
        const error = new PlatformError(
          codeOf(event.failure),
          `${this.options.name}: ${event.failure.message}`,
        );
        // a start that failed (the log or the store not reachable yet) is a death like any other:
        // the thread is ended and started again; a sink that stopped for good fails the node
        if (event.duringStart) this.worker?.terminate();
        else this.options.onError(error);
        return;
      }
      case "stopped":
        this.stopped?.(event.incomplete);
        return;
    }
  }

  private died(cause: CrossedError): void {
    // the next thread counts from 0: what this one reported is carried, its stats kept as gauges
    for (const s of this.lastStats) {
      const before = this.earlierThreads.get(s.name) ?? {
        rows: 0,
        batches: 0,
        writeFailures: 0,
        deadLetters: 0,
      };
      this.earlierThreads.set(s.name, {
        rows: before.rows + s.rows,
        batches: before.batches + s.batches,
        writeFailures: before.writeFailures + s.writeFailures,
        deadLetters: before.deadLetters + s.deadLetters,
      });
    }
    this.lastStats = this.lastStats.map((s) => ({
      ...s,
      rows: 0,
      batches: 0,
      writeFailures: 0,
      deadLetters: 0,
    }));
    const now = Date.now();
    this.deaths.push(now);
    while (this.deaths.length > 0 && (this.deaths[0] as number) < now - this.restart.periodMs)
      this.deaths.shift();
    const error = new PlatformError(
      ErrorCodes.WORKER_CRASHED,
      `the ${this.options.name} thread died: ${cause.message}`,
    );
    if (this.deaths.length > this.restart.intensity) {
      this.options.onError(
        new PlatformError(
          ErrorCodes.WORKER_CRASHED,
          `the ${this.options.name} thread died ${this.deaths.length} times within ${this.restart.periodMs} ms; not restarted`,
          { cause: error },
        ),
      );
      return;
    }
    this.restartCount++;
    this.options.onRestart?.(error, this.restartCount);
    const backoff = Math.min(this.restart.maxMs, this.restart.initialMs * 2 ** (this.deaths.length - 1));
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawn();
    }, backoff);
  }
}

function codeOf(error: CrossedError): (typeof ErrorCodes)[keyof typeof ErrorCodes] {
  const codes = Object.values(ErrorCodes) as string[];
  return (
    error.code !== undefined && codes.includes(error.code) ? error.code : ErrorCodes.WORKER_CRASHED
  ) as (typeof ErrorCodes)[keyof typeof ErrorCodes];
}
