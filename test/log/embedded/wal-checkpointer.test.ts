import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
import { checkpointFailureReason, WalCheckpointer } from "../../../log/embedded/wal-checkpointer.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wal-checkpointer-"));
  dirs.push(dir);
  return dir;
}

/** waits for `condition` itself, and fails (throws) when it has not held by the deadline */
async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

const autocheckpointOf = (db: Database) =>
  db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()?.wal_autocheckpoint;

const value = new Uint8Array(200).fill(7);
const batchOf = (batch: number, size = 100) =>
  Array.from({ length: size }, (_, i) => ({ topic: "readings", key: `sensor_${batch}_${i}`, value }));

test("the checkpoint thread copies the WAL into the database while the writer's own checkpoints are held off", async () => {
  const path = join(freshDir(), "log.db");
  const log = openEmbeddedLog({
    path,
    maintenanceIntervalMs: 0,
    synchronous: "NORMAL",
    checkpoints: "background",
  });
  try {
    await log.createTopic({ name: "readings", partitions: 4 });
    await until("the thread to take over", () => log.walCheckpointer()?.running === true);
    const before = statSync(path).size;
    // ~2 MB of records in 10 commits (~600 WAL pages): below SQLite's own threshold too (1,000
    // pages), so only the thread can have moved them into the database file
    for (let batch = 0; batch < 10; batch++) await log.append(batchOf(batch, 1000));
    await until(
      "the database file to hold the checkpointed pages",
      () => statSync(path).size > before + 1_000_000,
    );
    expect(log.walCheckpointer()?.lastFailure()).toBeUndefined();
  } finally {
    await log.close();
  }
});

test("records appended while the thread checkpoints read back whole after a reopen", async () => {
  const path = join(freshDir(), "log.db");
  const log = openEmbeddedLog({
    path,
    maintenanceIntervalMs: 0,
    synchronous: "NORMAL",
    checkpoints: "background",
  });
  await log.createTopic({ name: "readings", partitions: 1 });
  await until("the thread to take over", () => log.walCheckpointer()?.running === true);
  for (let batch = 0; batch < 50; batch++) await log.append(batchOf(batch));
  await log.close();
  expect(log.walCheckpointer()?.running).toBe(false);

  const reopened = openEmbeddedLog({ path, maintenanceIntervalMs: 0 });
  try {
    const records = await reopened.read({ topic: "readings", partition: 0 }, { maxRecords: 10_000 });
    expect(records.map((record) => record.offset)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(records[4999]!.key).toBe("sensor_49_99");
  } finally {
    await reopened.close();
  }
});

test("a thread that cannot open the file leaves the checkpoints with the writer and says why", async () => {
  const dir = freshDir();
  const writer = new Database(join(dir, "log.db"), { create: true });
  writer.run("PRAGMA journal_mode = WAL");
  const checkpointer = new WalCheckpointer(writer, join(dir, "missing", "log.db"));
  try {
    await until("the start to fail", () => checkpointer.lastFailure() !== undefined);
    expect(checkpointer.lastFailure()?.code).toBe("LOG_CHECKPOINT_FAILED");
    expect(checkpointer.status()).toMatchObject({ failing: true, failures: 1 });
    expect(checkpointer.running).toBe(false);
    expect(autocheckpointOf(writer)).toBe(1000);
  } finally {
    await checkpointer.stop();
    writer.close();
  }
});

test("stopping hands the checkpoints back to the writer", async () => {
  const dir = freshDir();
  const writer = new Database(join(dir, "log.db"), { create: true });
  writer.run("PRAGMA journal_mode = WAL");
  const checkpointer = new WalCheckpointer(writer, join(dir, "log.db"), { fallbackPages: 5000 });
  try {
    await until("the thread to take over", () => checkpointer.running);
    expect(autocheckpointOf(writer)).toBe(5000);
    await checkpointer.stop();
    expect(checkpointer.running).toBe(false);
    expect(autocheckpointOf(writer)).toBe(1000);
  } finally {
    await checkpointer.stop();
    writer.close();
  }
});

/** a file SQLite opens (lazily) but every checkpoint of which fails with SQLITE_NOTADB */
function notADatabase(path: string): void {
  writeFileSync(path, "not a database, only text long enough to hold a header ".repeat(100));
}

/** turns the file at `path` into a real WAL database in place, so the next pass succeeds */
function intoADatabase(path: string): void {
  const source = `${path}.source`;
  const db = new Database(source, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE t (x)");
  db.close();
  writeFileSync(path, readFileSync(source));
}

test("a thread whose passes fail is failing until a pass succeeds, counts every failure and says the streak once", async () => {
  const dir = freshDir();
  const writer = new Database(join(dir, "log.db"), { create: true });
  writer.run("PRAGMA journal_mode = WAL");
  const target = join(dir, "other.db");
  notADatabase(target);
  const said: string[] = [];
  const checkpointer = new WalCheckpointer(writer, target, {
    intervalMs: 5,
    warn: (line) => said.push(line),
  });
  try {
    await until("three failed passes", () => checkpointer.status().failures >= 3);
    expect(checkpointer.status().failing).toBe(true);
    expect(checkpointer.lastFailure()?.code).toBe("LOG_CHECKPOINT_FAILED");
    expect(checkpointer.lastFailure()?.details?.reason).toBe("file is not a database (SQLITE_NOTADB)");
    // one line for the streak, however many passes failed
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("LOG_CHECKPOINT_FAILED: file is not a database (SQLITE_NOTADB)");
    expect(said[0]).not.toContain(dir);

    intoADatabase(target);
    await until("a pass to succeed again", () => !checkpointer.status().failing);
    expect(checkpointer.status().failures).toBeGreaterThanOrEqual(3);
    expect(said).toHaveLength(2);
    expect(said[1]).toContain("succeed again");
  } finally {
    await checkpointer.stop();
    writer.close();
  }
});

describe("a checkpoint failure's reason names no path outside the log's file", () => {
  const path = "/var/lib/platform/data/log.db";
  test.each([
    [
      "a SQLite message with its code",
      { sqliteCode: "SQLITE_IOERR", message: "disk I/O error" },
      "disk I/O error (SQLITE_IOERR)",
    ],
    [
      "the log's file named by its name",
      { message: "cannot open /var/lib/platform/data/log.db" },
      "cannot open log.db",
    ],
    [
      "the data dir named as such",
      { message: "no space in /var/lib/platform/data" },
      "no space in <data dir>",
    ],
    [
      "another path left out",
      { message: "ENOENT: /home/alice/.secrets/key.pem, open" },
      "ENOENT: <path>, open",
    ],
    ["a long message cut", { message: "x".repeat(500) }, `${"x".repeat(200)}...`],
  ])("%s", (_name, reply, reason) => {
    expect(checkpointFailureReason(reply, path)).toBe(reason);
  });
});
