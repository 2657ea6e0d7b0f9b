/**
 * The Bun worker behind `wal-checkpointer.ts`: its own connection to the log's SQLite file,
 * copying the WAL back into the database (a PASSIVE checkpoint) every `intervalMs`, so the
 * writer's commits no longer pay for it (https://www.sqlite.org/wal.html#checkpointing: "the
 * checkpoint can be run in a separate thread or process").
 * Protocol: main posts {type:"start", path, intervalMs}; the worker answers {type:"started"} or
 * {type:"failed", sqliteCode, message}; after each failed pass {type:"failed", sqliteCode,
 * message}, and after the first pass that succeeds again {type:"recovered"} (so the host can
 * tell a failing thread from one that failed once); {type:"stop"} runs a last pass, closes the
 * connection and answers {type:"stopped"}.
 */
import { Database } from "bun:sqlite";

type Command = { type: "start"; path: string; intervalMs: number } | { type: "stop" };

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent<Command>) => void): void;
};
let db: Database | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let failing = false;

// no stack across the thread: the host records the SQLite code and message as the reason
function failed(error: unknown): void {
  failing = true;
  const sqliteCode = (error as { code?: unknown }).code;
  scope.postMessage({
    type: "failed",
    sqliteCode: typeof sqliteCode === "string" ? sqliteCode : undefined,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * PASSIVE never waits on the writer or on readers: it copies what no reader still needs and
 * returns. A busy file (another process's checkpoint, a lock) is tried again on the next tick.
 */
function checkpoint(): void {
  if (db === undefined) return;
  try {
    db.run("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (error) {
    failed(error);
    return;
  }
  if (!failing) return;
  failing = false;
  scope.postMessage({ type: "recovered" });
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
      failed(error);
    }
    return;
  }
  clearInterval(timer);
  checkpoint();
  db?.close();
  db = undefined;
  scope.postMessage({ type: "stopped" });
});
