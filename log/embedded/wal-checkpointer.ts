import type { Database } from "bun:sqlite";
import { basename, dirname } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Checkpoints of the embedded log's WAL on a thread of their own.
 *
 * SQLite's default checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: that
 * commit copies every page back into the database and syncs it, on the writer's thread. In the
 * node the writer is the main thread, and at 3k readings/s the checkpoints were half of the time
 * its append transactions held it (measured in the node: 0.38 -> 0.17 ms a transaction); most
 * of that is waiting on the write and the sync, not CPU, but the event loop waits all the same.
 * Here a worker thread with its own connection checkpoints every `intervalMs`; the writer's own
 * threshold is raised to `fallbackPages`, so if the thread falls behind (or fails) the writer
 * still checkpoints itself and the WAL stays bounded.
 * Durability is unchanged: a checkpoint only copies committed frames, from any connection.
 */
export interface WalCheckpointerOptions {
  /**
   * how often the thread checkpoints; default 1 s. Fewer, larger checkpoints copy a page that
   * was rewritten many times (an index page of a busy partition) once, where SQLite's own copied
   * it at every 1,000 pages of WAL; the WAL grows to what a second writes (~5k pages at 3k
   * readings/s), well under the writer's fallback
   */
  readonly intervalMs?: number;
  /** the writer's own automatic checkpoint threshold while the thread runs; default 10,000 pages */
  readonly fallbackPages?: number;
  /** where the start of a failure streak and its end are said; default console.warn */
  readonly warn?: (line: string) => void;
}

/**
 * What the node reports of the thread (/health, /metrics): `failing` from a failed pass or start
 * until a pass succeeds again, `failures` every failed pass or start since the log opened.
 */
export interface WalCheckpointStatus {
  readonly running: boolean;
  readonly failing: boolean;
  readonly failures: number;
  readonly lastFailure: PlatformError | undefined;
}

type Reply =
  | { type: "started" }
  | { type: "failed"; sqliteCode?: string; message: string }
  | { type: "recovered" }
  | { type: "stopped" };

const STOP_TIMEOUT_MS = 5000;
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
const MAX_REASON_CHARS = 200;

/**
 * The reason a failure shows (on /health, which any client may read): the SQLite code and
 * message, with the log's own file named by its name alone and any other path left out.
 */
export function checkpointFailureReason(
  reply: { sqliteCode?: string; message: string },
  path: string,
): string {
  const file = basename(path);
  const message = reply.message
    .split(path)
    .join(file)
    .split(dirname(path))
    .join("<data dir>")
    // a path starts a word ("I/O" is none)
    .replace(/(?<=^|[\s'"(=])(?:[A-Za-z]:)?[/\\][^\s'",;:)]+/g, "<path>");
  const reason = reply.sqliteCode ? `${message} (${reply.sqliteCode})` : message;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}...` : reason;
}

export class WalCheckpointer {
  private worker: Worker | undefined;
  private failure: PlatformError | undefined;
  private failures = 0;
  private failing = false;
  private handedOver = false;
  private readonly warn: (line: string) => void;

  /**
   * Starts the thread on `path` (the file must exist). Until the thread answers that it runs,
   * the writer keeps its own checkpoints; a thread that does not start leaves them there.
   */
  constructor(
    private readonly writer: Database,
    private readonly path: string,
    private readonly options: WalCheckpointerOptions = {},
  ) {
    this.warn = options.warn ?? ((line) => console.warn(line));
    const worker = new Worker(new URL("./wal-checkpoint-thread.ts", import.meta.url).href);
    worker.addEventListener("message", (event: MessageEvent<Reply>) => this.onReply(event.data));
    // a thread that dies takes no more checkpoints: they go back to the writer, and it is a failure
    worker.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      this.onThreadDied(event.message);
    });
    // a running thread must not keep the process alive
    worker.unref();
    worker.postMessage({ type: "start", path, intervalMs: options.intervalMs ?? 1000 });
    this.worker = worker;
  }

  /** true once the thread runs the checkpoints and the writer's own are held off */
  get running(): boolean {
    return this.handedOver;
  }

  /** the last failed checkpoint pass or start, if any (the writer's fallback keeps the WAL bounded) */
  lastFailure(): PlatformError | undefined {
    return this.failure;
  }

  status(): WalCheckpointStatus {
    return {
      running: this.handedOver,
      failing: this.failing,
      failures: this.failures,
      lastFailure: this.failure,
    };
  }

  /** Hands checkpoints back to the writer, then stops the thread after a last pass. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    this.handBack();
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      worker.addEventListener("message", (event: MessageEvent<Reply>) => {
        if (event.data.type !== "stopped") return;
        clearTimeout(timer);
        resolve();
      });
    });
    worker.postMessage({ type: "stop" });
    try {
      await stopped;
    } finally {
      worker.terminate();
    }
  }

  private handBack(): void {
    if (this.handedOver) this.writer.run(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    this.handedOver = false;
  }

  private onReply(reply: Reply): void {
    if (reply.type === "started") {
      if (this.worker === undefined) return; // stopped before it started
      this.writer.run(`PRAGMA wal_autocheckpoint = ${Math.trunc(this.options.fallbackPages ?? 10_000)}`);
      this.handedOver = true;
    } else if (reply.type === "failed") {
      this.recordFailure(checkpointFailureReason(reply, this.path));
    } else if (reply.type === "recovered") {
      if (this.failing) this.warn("embedded log: WAL checkpoints on the checkpoint thread succeed again");
      this.failing = false;
    }
  }

  private onThreadDied(message: string): void {
    if (this.worker === undefined) return;
    this.worker = undefined;
    this.handBack();
    this.recordFailure(
      `the checkpoint thread stopped: ${checkpointFailureReason({ message }, this.path)}; the writer checkpoints itself`,
    );
  }

  /** counted every time, said once per streak: a thread failing every second must not flood the log */
  private recordFailure(reason: string): void {
    this.failures++;
    this.failure = new PlatformError(
      ErrorCodes.LOG_CHECKPOINT_FAILED,
      "a WAL checkpoint on the checkpoint thread failed",
      {
        details: { reason },
      },
    );
    if (this.failing) return;
    this.failing = true;
    this.warn(
      `embedded log: WAL checkpoints on the checkpoint thread fail (${ErrorCodes.LOG_CHECKPOINT_FAILED}: ${reason}); the writer's own checkpoints keep the WAL bounded`,
    );
  }
}
