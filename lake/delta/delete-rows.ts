import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AddAction } from "./actions.ts";
import { dataFileName } from "./data-files.ts";
import type { DeltaTable } from "./delta-table.ts";
import type { RowMatch } from "./parquet.ts";
import { encodeDataPath, partitionDirectory } from "./partition-values.ts";
import type { DataFile } from "./table-state.ts";

/**
 * DELETE FROM <table> WHERE c1 = v1 AND c2 = v2 ... (Delta's copy-on-write delete, without
 * deletion vectors, which protocol 1/2 does not have): every file that may hold a matching row is
 * rewritten without those rows; one commit removes the old files and adds the rewrites (none for
 * a file whose rows all matched), with `commitInfo.operation = "DELETE"`.
 *
 * Files are chosen as a reader skips them: by partition values, then by the add action's min/max
 * statistics; a file whose rewrite keeps every row is dropped, not committed. Like OPTIMIZE, the
 * rewrite runs outside the table's commit lock, so a sink appending every second is never held,
 * and never starves the delete either: appends committed meanwhile do not conflict with it
 * (Delta's WriteSerializable), and since the rows they added were not looked at, the delete runs
 * passes until one finds nothing, over the files added since (a pass costs a look at the new
 * files' statistics when they hold no matching row). A writer that removed one of the same files
 * (another delete, OPTIMIZE) is a conflict, and the pass starts again from the newer version.
 * Both are bounded.
 *
 * The removed files stay on disk for time travel until VACUUM deletes them after the table's
 * retention: a deletion request that must reach the bytes runs VACUUM too.
 */
export interface DeleteOptions {
  /** passes (after a conflict, or to cover rows appended during the last one) at most (default 5) */
  readonly attempts?: number;
}

export interface DeleteResult {
  /** the DELETE commit, or undefined when no row matched */
  readonly version: number | undefined;
  readonly numDeletedRows: number;
  readonly numRemovedFiles: number;
  readonly numAddedFiles: number;
}

export async function deleteRows(
  table: DeltaTable,
  match: RowMatch,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  const attempts = options.attempts ?? 5;
  // files a pass read or wrote that hold no matching row: the next pass skips them
  const clean = new Set<string>();
  let total: DeleteResult = { version: undefined, numDeletedRows: 0, numRemovedFiles: 0, numAddedFiles: 0 };
  for (let attempt = 1; ; attempt++) {
    let pass: DeleteResult;
    try {
      pass = await deleteOnce(table, match, clean);
    } catch (error) {
      const conflict = error instanceof PlatformError && error.code === ErrorCodes.DELTA_COMMIT_CONFLICT;
      if (!conflict || attempt >= attempts) throw error;
      continue;
    }
    if (pass.version === undefined) return total;
    total = {
      version: pass.version,
      numDeletedRows: total.numDeletedRows + pass.numDeletedRows,
      numRemovedFiles: total.numRemovedFiles + pass.numRemovedFiles,
      numAddedFiles: total.numAddedFiles + pass.numAddedFiles,
    };
    // rows appended while this pass ran were not looked at: one more pass, until one finds none
    if (attempt >= attempts)
      throw new PlatformError(
        ErrorCodes.DELTA_COMMIT_CONFLICT,
        `matching rows kept arriving: ${attempts} passes deleted ${total.numDeletedRows} rows, none found the table without them`,
      );
  }
}

async function deleteOnce(table: DeltaTable, match: RowMatch, clean: Set<string>): Promise<DeleteResult> {
  const snapshot = await table.snapshot();
  const partitionColumns = snapshot.partitionColumns;
  const entries = Object.entries(match);
  if (entries.length === 0)
    throw new PlatformError(ErrorCodes.BAD_REQUEST, "a delete names at least one column");
  for (const [name] of entries) {
    if (!snapshot.schema.some((f) => f.name === name))
      throw new PlatformError(ErrorCodes.BAD_REQUEST, `the table has no column ${name}`);
  }
  const onPartitions = entries.filter(([name]) => partitionColumns.includes(name));
  const onData = Object.fromEntries(entries.filter(([name]) => !partitionColumns.includes(name)));
  const candidates = snapshot.files.filter(
    (file) =>
      !clean.has(file.relativePath) &&
      onPartitions.every(([name, value]) => file.partitionValues[name] === value) &&
      Object.entries(onData).every(([name, value]) => mayHold(file, name, value)),
  );
  const none = { version: undefined, numDeletedRows: 0, numRemovedFiles: 0, numAddedFiles: 0 };
  if (candidates.length === 0) return none;
  const dataColumns = snapshot.schema.filter((f) => !partitionColumns.includes(f.name));
  const removes: AddAction[] = [];
  const adds: AddAction[] = [];
  const written: string[] = [];
  let deletedRows = 0;
  try {
    for (const file of candidates) {
      const remove: AddAction = {
        path: file.relativePath,
        partitionValues: file.partitionValues,
        size: file.size,
        modificationTime: file.modificationTime,
        dataChange: true,
      };
      if (Object.keys(onData).length === 0) {
        // the whole file matches by its partition: removed without reading it
        removes.push(remove);
        deletedRows += file.numRecords ?? 0;
        continue;
      }
      const directory = partitionDirectory(partitionColumns, file.partitionValues);
      const relative = directory ? `${directory}/${dataFileName()}` : dataFileName();
      const path = join(table.dir, relative);
      written.push(path);
      const rewrite = await table.parquetPort.rewriteFiles(dataColumns, [file.path], path, onData);
      const kept = rewrite.stats.numRecords;
      const before = file.numRecords;
      if (before !== undefined && kept === before) {
        // the statistics could not rule it out, but no row matched
        await rm(path, { force: true });
        clean.add(file.relativePath);
        continue;
      }
      removes.push(remove);
      deletedRows += before === undefined ? 0 : before - kept;
      if (kept === 0) {
        await rm(path, { force: true });
        continue;
      }
      clean.add(encodeDataPath(relative));
      adds.push({
        path: encodeDataPath(relative),
        partitionValues: { ...file.partitionValues },
        size: rewrite.size,
        modificationTime: Date.now(),
        dataChange: true,
        stats: JSON.stringify(rewrite.stats),
      });
    }
    if (removes.length === 0) return none;
    const commit = await table.commitDelete(
      removes,
      adds,
      entries.map(([name, value]) => `${name} = '${value.replaceAll("'", "''")}'`).join(" AND "),
      {
        numDeletedRows: deletedRows,
        numRemovedFiles: removes.length,
        numAddedFiles: adds.length,
        numCopiedRows: adds.reduce((n, a) => n + (JSON.parse(a.stats ?? "{}").numRecords ?? 0), 0),
      },
    );
    return {
      version: commit.version,
      numDeletedRows: deletedRows,
      numRemovedFiles: removes.length,
      numAddedFiles: adds.length,
    };
  } catch (error) {
    // nothing references the rewrites of a delete that did not commit
    await Promise.allSettled(written.map((p) => rm(p, { force: true })));
    throw error;
  }
}

/**
 * Whether a file's statistics leave room for `column = value`. Bounds are compared only when both
 * sides are ASCII: JavaScript orders strings by UTF-16 units, parquet by UTF-8 bytes, and the two
 * disagree beyond ASCII, where skipping a file on the wrong order would leave rows undeleted.
 */
function mayHold(file: DataFile, column: string, value: string): boolean {
  const stats = file.stats;
  if (!stats) return true;
  if (stats.nullCount[column] !== undefined && stats.nullCount[column] === stats.numRecords) return false;
  const ascii = (text: unknown): text is string => typeof text === "string" && !/[^ -~]/.test(text);
  const min = stats.minValues[column];
  const max = stats.maxValues[column];
  if (!ascii(value)) return true;
  if (ascii(min) && value < min) return false;
  if (ascii(max) && value > max) return false;
  return true;
}
