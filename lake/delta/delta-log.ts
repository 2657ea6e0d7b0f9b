import { link, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { type Action, type ProtocolAction, parseAction } from "./actions.ts";
import type { ParquetPort } from "./parquet.ts";
import { TableState } from "./table-state.ts";

/**
 * The transaction log (PROTOCOL.md "Delta Log Entries", "Checkpoints", "Last Checkpoint File"):
 * `_delta_log/<20-digit version>.json` commits, `<version>.checkpoint.parquet` (or
 * `<version>.checkpoint.<part>.<parts>.parquet`) checkpoints, and `_last_checkpoint`.
 *
 * A commit is made with create-if-absent: the actions go to a temporary file that is then
 * hard-linked to the commit's name; `link` fails with EEXIST when another writer got the version
 * first, which is what delta-rs does on a local filesystem. The log is always listed, and
 * `_last_checkpoint` is only the hint the protocol says it is: a hint pointing at a checkpoint
 * that is not there falls back to the newest complete checkpoint found in the listing.
 */

export const LOG_DIR = "_delta_log";
const COMMIT = /^(\d{20})\.json$/;
const CHECKPOINT = /^(\d{20})\.checkpoint(?:\.(\d{10})\.(\d{10}))?\.parquet$/;

export function versionName(version: number): string {
  return String(version).padStart(20, "0");
}

export function commitPath(dir: string, version: number): string {
  return join(dir, LOG_DIR, `${versionName(version)}.json`);
}

export interface LogListing {
  /** version -> commit file name */
  commits: Map<number, string>;
  /** version -> the file names of a complete checkpoint (every part present) */
  checkpoints: Map<number, string[]>;
}

export async function listLog(dir: string): Promise<LogListing> {
  let names: string[];
  try {
    names = await readdir(join(dir, LOG_DIR));
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.DELTA_NOT_A_TABLE,
      `${dir} is not a Delta table (no ${LOG_DIR} directory)`,
      {
        cause,
      },
    );
  }
  const commits = new Map<number, string>();
  const parts = new Map<number, { expected: number; names: string[] }>();
  for (const name of names) {
    const commit = COMMIT.exec(name);
    if (commit) {
      commits.set(Number(commit[1]), name);
      continue;
    }
    const checkpoint = CHECKPOINT.exec(name);
    if (!checkpoint) continue;
    const version = Number(checkpoint[1]);
    const expected = checkpoint[3] === undefined ? 1 : Number(checkpoint[3]);
    const entry = parts.get(version) ?? { expected, names: [] };
    if (entry.expected === expected) entry.names.push(name);
    parts.set(version, entry);
  }
  const checkpoints = new Map<number, string[]>();
  for (const [version, entry] of parts) {
    if (entry.names.length === entry.expected) checkpoints.set(version, entry.names.sort());
  }
  if (commits.size === 0 && checkpoints.size === 0) {
    throw new PlatformError(ErrorCodes.DELTA_NOT_A_TABLE, `${dir} is not a Delta table (its log is empty)`);
  }
  return { commits, checkpoints };
}

export function latestVersion(listing: LogListing): number {
  return Math.max(...listing.commits.keys(), ...listing.checkpoints.keys());
}

/** The actions of one commit, or undefined when that commit file does not exist. */
export async function readCommit(dir: string, version: number): Promise<Action[] | undefined> {
  const file = commitPath(dir, version);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PlatformError(ErrorCodes.DELTA_LOG_CORRUPT, `commit ${version} cannot be read`, {
      cause: error,
    });
  }
  return parseCommit(text, version);
}

export function parseCommit(text: string, version: number): Action[] {
  const actions: Action[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line.length === 0) continue;
    try {
      const action = parseAction(JSON.parse(line));
      if (action) actions.push(action);
    } catch (cause) {
      throw new PlatformError(
        ErrorCodes.DELTA_LOG_CORRUPT,
        `commit ${version} has an unreadable action on line ${i + 1}`,
        {
          cause,
          details: { version, line: i + 1 },
        },
      );
    }
  }
  return actions;
}

/**
 * Writes `actions` as commit `version` if no other writer has: true when this call made the
 * commit, false when the version already exists.
 */
export async function writeCommit(
  dir: string,
  version: number,
  actions: readonly Action[],
): Promise<boolean> {
  const temporary = join(dir, LOG_DIR, `_commit_${crypto.randomUUID()}.json.tmp`);
  await writeFile(temporary, `${actions.map((a) => JSON.stringify(a)).join("\n")}\n`);
  try {
    await link(temporary, commitPath(dir, version));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new PlatformError(ErrorCodes.DELTA_LOG_CORRUPT, `commit ${version} could not be written`, {
      cause: error,
    });
  } finally {
    await unlink(temporary);
  }
}

/** The commit's timestamp: its file's modification time (the protocol's definition without in-commit timestamps). */
export async function commitTimestamp(dir: string, version: number): Promise<number> {
  const info = await stat(commitPath(dir, version)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  return info ? Math.floor(info.mtimeMs) : Date.now();
}

/**
 * Every commit's timestamp, made monotonic as the protocol asks of readers (a commit is never
 * older than the one before it).
 */
export async function commitTimestamps(dir: string, listing: LogListing): Promise<Map<number, number>> {
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  const result = new Map<number, number>();
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < versions.length; i += 64) {
    const slice = versions.slice(i, i + 64);
    const times = await Promise.all(slice.map((v) => commitTimestamp(dir, v)));
    slice.forEach((version, k) => {
      const adjusted = Math.max(times[k] as number, previous + 1);
      result.set(version, adjusted);
      previous = adjusted;
    });
  }
  return result;
}

/** The table's state at `target` (default: the newest version), from a checkpoint and the commits after it. */
export async function loadState(dir: string, parquet: ParquetPort, target?: number): Promise<TableState> {
  const listing = await listLog(dir);
  const latest = latestVersion(listing);
  const version = target ?? latest;
  if (!Number.isInteger(version) || version < 0 || version > latest) {
    throw new PlatformError(
      ErrorCodes.DELTA_VERSION_NOT_FOUND,
      `version ${version} does not exist (latest is ${latest})`,
    );
  }
  const checkpoint = Math.max(-1, ...[...listing.checkpoints.keys()].filter((v) => v <= version));
  for (let v = checkpoint + 1; v <= version; v++) {
    if (!listing.commits.has(v)) {
      throw new PlatformError(
        ErrorCodes.DELTA_VERSION_NOT_FOUND,
        `version ${version} cannot be reconstructed: commit ${v} is missing and no checkpoint covers it`,
        { details: { version, missingCommit: v } },
      );
    }
  }
  const state = new TableState();
  if (checkpoint >= 0) {
    const names = listing.checkpoints.get(checkpoint) as string[];
    const rows = await parquet.readCheckpoint(names.map((n) => join(dir, LOG_DIR, n)));
    const actions: Action[] = [];
    for (const row of rows) {
      try {
        const action = parseAction(row);
        if (action) actions.push(action);
      } catch (cause) {
        throw new PlatformError(
          ErrorCodes.DELTA_LOG_CORRUPT,
          `checkpoint ${checkpoint} holds a malformed action`,
          {
            cause,
          },
        );
      }
    }
    state.apply(checkpoint, actions);
  }
  for (let v = checkpoint + 1; v <= version; v++) {
    const actions = await readCommit(dir, v);
    if (!actions) {
      throw new PlatformError(
        ErrorCodes.DELTA_VERSION_NOT_FOUND,
        `commit ${v} disappeared while the table was read`,
      );
    }
    state.apply(v, actions);
  }
  if (state.schema.length === 0) {
    throw new PlatformError(ErrorCodes.DELTA_LOG_CORRUPT, `version ${version} has a schema without columns`);
  }
  checkReadable(state.protocol as ProtocolAction);
  return state;
}

/** Reader features this library handles: it reads plain parquet through DuckDB. */
const READER_FEATURES = new Set(["timestampNtz"]);
/** Writer features whose rules appends here respect. */
const WRITER_FEATURES = new Set(["appendOnly", "invariants", "timestampNtz"]);

export function checkReadable(protocol: ProtocolAction): void {
  const { minReaderVersion } = protocol;
  const unsupported =
    minReaderVersion === 2 ||
    minReaderVersion > 3 ||
    (minReaderVersion === 3 && (protocol.readerFeatures ?? []).some((f) => !READER_FEATURES.has(f)));
  if (unsupported) {
    throw new PlatformError(
      ErrorCodes.DELTA_PROTOCOL_UNSUPPORTED,
      `reader version ${minReaderVersion} ${JSON.stringify(protocol.readerFeatures ?? [])} is not supported (column mapping and deletion vectors are not)`,
    );
  }
}

export function checkWritable(protocol: ProtocolAction): void {
  checkReadable(protocol);
  const { minWriterVersion } = protocol;
  const supported =
    minWriterVersion <= 2 ||
    (minWriterVersion === 7 && (protocol.writerFeatures ?? []).every((f) => WRITER_FEATURES.has(f)));
  if (!supported) {
    throw new PlatformError(
      ErrorCodes.DELTA_PROTOCOL_UNSUPPORTED,
      `writer version ${minWriterVersion} ${JSON.stringify(protocol.writerFeatures ?? [])} is not supported by this writer`,
    );
  }
}

/** The checkpoint of `state` (its version) and `_last_checkpoint` pointing at it. */
export async function writeCheckpoint(
  dir: string,
  parquet: ParquetPort,
  state: TableState,
  tombstoneRetentionMs: number,
): Promise<void> {
  const rows: Record<string, unknown>[] = [{ protocol: state.protocol }, { metaData: state.metadata }];
  for (const txn of state.txns.values()) rows.push({ txn });
  for (const add of state.files.values()) rows.push({ add: { ...add, dataChange: false } });
  const horizon = Date.now() - tombstoneRetentionMs;
  for (const remove of state.tombstones.values()) {
    // Tombstones older than the retention are no longer needed by VACUUM; the protocol lets
    // checkpoints drop them.
    if ((remove.deletionTimestamp ?? 0) >= horizon) rows.push({ remove: { ...remove, dataChange: false } });
  }
  const name = `${versionName(state.version)}.checkpoint.parquet`;
  const temporary = join(dir, LOG_DIR, `_checkpoint_${crypto.randomUUID()}.parquet.tmp`);
  const sizeInBytes = await parquet.writeCheckpoint(temporary, rows);
  // rename: a reader listing the log never sees a half-written checkpoint
  await rename(temporary, join(dir, LOG_DIR, name));
  const last = join(dir, LOG_DIR, `_last_checkpoint_${crypto.randomUUID()}.tmp`);
  await writeFile(last, JSON.stringify({ version: state.version, size: rows.length, sizeInBytes }));
  await rename(last, join(dir, LOG_DIR, "_last_checkpoint"));
}

/**
 * Expired log cleanup (Delta's `delta.logRetentionDuration`, 30 days by default): commits and
 * checkpoints older than `cutoffMs` are deleted, but only those before the checkpoint just
 * written at `checkpointVersion`, so the newest state stays reconstructible from what is left.
 * Time travel to a version before the oldest remaining checkpoint then fails with
 * DELTA_VERSION_NOT_FOUND. Returns the file names deleted.
 */
export async function cleanupExpiredLog(
  dir: string,
  checkpointVersion: number,
  cutoffMs: number,
): Promise<string[]> {
  const listing = await listLog(dir);
  const candidates = [
    ...[...listing.commits].filter(([v]) => v < checkpointVersion).map(([, name]) => name),
    ...[...listing.checkpoints].filter(([v]) => v < checkpointVersion).flatMap(([, names]) => names),
  ];
  const deleted: string[] = [];
  for (const name of candidates) {
    const path = join(dir, LOG_DIR, name);
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (!info || info.mtimeMs >= cutoffMs) continue;
    await rm(path, { force: true });
    deleted.push(name);
  }
  return deleted;
}
