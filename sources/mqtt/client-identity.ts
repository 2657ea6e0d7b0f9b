import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The ingest client's MQTT client id, stable across restarts: a persistent session is found
 * again by its client id, so what was published while the node was away (and what it had
 * received but not yet made durable) is delivered after the restart. The pid would change at
 * every start and strand the old session's messages.
 *
 * The id is random once and kept in DATA_DIR (`mqtt-ingest/slot-<n>.id`). Several nodes of one
 * application on one broker need different ids (a broker disconnects the older of two clients
 * with the same id), also when they share a DATA_DIR, as nodes on the embedded log may: each
 * running node holds a slot's lock file (`slot-<n>.lock`, its pid inside, created exclusively)
 * and a restarted node takes the lowest free slot, so it gets its former id back. A lock left by
 * a killed node is taken over once its pid is gone.
 */
export interface ClaimedClientId {
  readonly clientId: string;
  /** free the slot (a graceful stop); a killed node's slot is freed by the next claim */
  release(): void;
}

const MAX_SLOTS = 64;

/** every ingest client id of the application starts with this (the embedded broker waits for their acks) */
export function ingestClientIdPrefix(applicationId: string): string {
  return `${applicationId}-ingest-`;
}

export function claimClientId(dataDir: string, applicationId: string, pid = process.pid): ClaimedClientId {
  const dir = join(dataDir, "mqtt-ingest");
  mkdirSync(dir, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const lock = join(dir, `slot-${slot}.lock`);
    if (!takeLock(lock, pid)) continue;
    return {
      clientId: `${ingestClientIdPrefix(applicationId)}${slotId(join(dir, `slot-${slot}.id`))}`,
      release() {
        if (readPid(lock) === pid) unlinkSync(lock);
      },
    };
  }
  throw new PlatformError(
    ErrorCodes.CONFIG_INVALID,
    `${MAX_SLOTS} running nodes already use ${dir}: give this node a DATA_DIR of its own`,
  );
}

function takeLock(lock: string, pid: number): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      writeFileSync(fd, String(pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readPid(lock);
    // a lock being written (no pid yet) or held by a live process is not ours to take
    if (holder === undefined || holder === pid || alive(holder)) return false;
    unlinkSync(lock);
  }
  return false;
}

function slotId(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const id = randomBytes(6).toString("hex");
    writeFileSync(file, id);
    return id;
  }
}

/** the process id a lock file names, or undefined while it is absent or not yet written */
export function readPid(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** whether a process with this id exists (another user's counts) */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
