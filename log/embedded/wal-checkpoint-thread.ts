/**
 * The Bun worker behind `wal-checkpointer.ts`: its own connection to the log's SQLite file,
 * copying the WAL back into the database (a PASSIVE checkpoint) every `intervalMs`, so the
 * writer's commits no longer pay for it (https://www.sqlite.org/wal.html#checkpointing: "the
 * checkpoint can be run in a separate thread or process").
 * Protocol: main posts {type:"start", path, intervalMs}; the worker answers {type:"started"} or
 * {type:"failed", message}; after each failed pass {type:"failed", message}; {type:"stop"} runs
 * a last pass, closes the connection and answers {type:"stopped"}.
 */
import { Database } from "bun:sqlite";

type Command = { type: "start"; path: string; intervalMs: number } | { type: "stop" };

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent<Command>) => void): void;
};
let db: Database | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

/**
 * PASSIVE never waits on the writer or on readers: it copies what no reader still needs and
 * returns. A busy file (another process's checkpoint, a lock) is tried again on the next tick.
 */
function checkpoint(): void {
  if (db === undefined) return;
  try {
    db.run("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (error) {
    // no stack or path across the thread: the host records the reason as a log failure
    scope.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  }
}

scope.addEventListener("message", (event) => {
  const command = event.data;
  if (command.type === "start") {
    try {
      db = new Database(command.path, { create: false });
      // the writer may hold the write lock for a moment; a checkpoint is never worth a wait
      db.run("PRAGMA busy_timeout = 0");
      timer = setInterval(checkpoint, command.intervalMs);
      scope.postMessage({ type: "started" });
    } catch (error) {
      scope.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  clearInterval(timer);
  checkpoint();
  db?.close();
  db = undefined;
  scope.postMessage({ type: "stopped" });
});
