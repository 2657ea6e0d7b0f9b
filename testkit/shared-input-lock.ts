import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, readPid } from "../sources/mqtt/client-identity.ts";

/**
 * One run at a time, per broker, of the tests whose nodes read the shared input topics.
 *
 * Every application on a broker reads the same `city.sensors.raw` and writes the same
 * `city.processed.*` (the topics are the platform's, not an application's), and every node on a
 * Mosquitto subscribes to `city/sensors/#`. Two such tests running at once on one machine (two
 * engineers, two terminals) see each other's sensors: the other application's nodes append the
 * run's readings a second time and emit their own "final" windows for the run's sensors, with
 * their own grace and from whenever they started. That is what made the rolling restart fail on
 * the shared broker (duplicates in the thousands, windows "final" as [19, 20, 20]: the 19 and one
 * 20 from the nodes of a concurrent single-owner-aggregates run), never on a private broker.
 *
 * The lock is a file holding its owner's pid, created exclusively; a lock whose owner has died
 * (a run killed with -9) is taken over. Waiting has a deadline, past which the test fails saying
 * who holds the lock.
 */
export async function holdSharedInput(
  brokers: string,
  waitMs = 600_000,
  lockDir = tmpdir(),
): Promise<() => void> {
  // one broker under two names is one broker
  const broker = brokers.replaceAll("localhost", "127.0.0.1").replace(/[^A-Za-z0-9.-]/g, "_");
  const path = join(lockDir, `streaming-ml-shared-input-${broker}.lock`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const taken = tryCreate(path);
    if (taken) return () => release(path);
    const holder = readPid(path);
    if (holder !== undefined && !alive(holder)) {
      removeIfHeldBy(path, holder); // its run died without releasing it
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `another test run (pid ${holder ?? "unknown"}) still holds ${path} after ${waitMs} ms: its nodes read the same input topics`,
      );
    await Bun.sleep(500);
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeIfHeldBy(path: string, pid: number): void {
  if (readPid(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

function release(path: string): void {
  removeIfHeldBy(path, process.pid);
}
