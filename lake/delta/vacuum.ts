import { readdir, stat, unlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { DeltaTable } from "./delta-table.ts";
import { decodeDataPath } from "./partition-values.ts";

/**
 * VACUUM (PROTOCOL.md leaves it to writers; this follows Delta's): deletes data files the newest
 * version no longer references once they are older than the retention: files removed by a
 * commit (their tombstone's deletionTimestamp) and files no commit ever added (a writer that died
 * between its parquet write and its commit; their modification time). Hidden paths (`_...`,
 * `.` ...), the log among them, are never touched.
 *
 * Time travel to a version whose files are gone fails with DELTA_FILE_MISSING, so a retention
 * below `delta.deletedFileRetentionDuration` (default 1 week) is refused unless the caller turns
 * the check off, as Delta's `retentionDurationCheck`. A retention shorter than the longest
 * running write could also delete files a writer has not committed yet.
 */

export interface VacuumOptions {
  /** default: the table's delta.deletedFileRetentionDuration */
  retentionHours?: number;
  dryRun?: boolean;
  /** false allows a retention below the table's (tests, or a table nobody time-travels) */
  enforceRetention?: boolean;
}

export interface VacuumResult {
  /** relative paths deleted (or that would be, for a dry run) */
  files: string[];
  dryRun: boolean;
  version: number | undefined;
}

export async function vacuum(table: DeltaTable, options: VacuumOptions = {}): Promise<VacuumResult> {
  const tableRetention = table.deletedFileRetentionMs();
  const retentionMs =
    options.retentionHours === undefined ? tableRetention : options.retentionHours * 3_600_000;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "vacuum: retentionHours must be a non-negative number",
    );
  }
  if (options.enforceRetention !== false && retentionMs < tableRetention) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `vacuum: a retention of ${retentionMs / 3_600_000} h is below the table's ${tableRetention / 3_600_000} h; time travel would break (pass enforceRetention: false to do it anyway)`,
    );
  }
  const snapshot = await table.snapshot();
  const live = new Set(snapshot.files.map((f) => decodeDataPath(f.relativePath)));
  const tombstones = new Map((await table.tombstones()).map((t) => [decodeDataPath(t.path), t]));
  const horizon = Date.now() - retentionMs;
  const expired: string[] = [];
  for await (const path of dataFiles(table.dir)) {
    const rel = relative(table.dir, path);
    if (live.has(rel)) continue;
    const tombstone = tombstones.get(rel);
    const since = tombstone?.deletionTimestamp ?? (await stat(path)).mtimeMs;
    if (since < horizon) expired.push(rel);
  }
  if (options.dryRun) return { files: expired, dryRun: true, version: undefined };
  for (const rel of expired) {
    await unlink(join(table.dir, rel)).catch((error: NodeJS.ErrnoException) => {
      // another VACUUM got there first: the file is gone either way
      if (error.code !== "ENOENT") throw error;
    });
  }
  const commit =
    expired.length === 0
      ? undefined
      : await table.commitProvenance(
          "VACUUM END",
          {
            status: "COMPLETED",
            specifiedRetentionMillis: retentionMs,
            defaultRetentionMillis: tableRetention,
          },
          { numDeletedFiles: expired.length },
        );
  return { files: expired, dryRun: false, version: commit?.version };
}

/** Every file under the table directory except hidden ones (`_delta_log`, `.crc` files, ...). */
async function* dataFiles(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    // a partition directory of a column named `_x` is data (`_x=1`); other `_` and `.` names are not
    if ((entry.name.startsWith("_") && !entry.name.includes("=")) || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* dataFiles(path);
    else if (entry.isFile()) yield path;
  }
}
