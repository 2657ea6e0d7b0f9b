import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { AddAction } from "./actions.ts";
import { partitionKey } from "./conflicts.ts";
import { dataFileName } from "./data-files.ts";
import type { DeltaTable } from "./delta-table.ts";
import type { ParquetPort } from "./parquet.ts";
import { encodeDataPath, partitionDirectory } from "./partition-values.ts";
import type { DataFile } from "./table-state.ts";

/**
 * OPTIMIZE (bin-packing compaction, as Delta's and delta-rs' `optimize.compact`): in each
 * partition, files smaller than the target are packed into bins of up to the target size; each
 * bin of two or more files is rewritten as one file. The commit removes the small files and adds
 * the new ones with dataChange=false, so streaming readers of the table skip it and time travel
 * still sees the old files until VACUUM deletes them.
 *
 * The rewrite runs outside the table's commit lock: appends go on meanwhile, and only the final
 * commit is serialized with them. A writer that removed one of the same files first wins; the
 * compaction then gives up (DELTA_COMMIT_CONFLICT) and deletes the files it wrote.
 */

export interface OptimizeOptions {
  /** the size a compacted file aims for, in bytes (default 128 MiB) */
  targetFileSize?: number;
  /** only these partitions (partition column -> value as text); all when absent */
  partitionFilter?: Record<string, string | null>;
  parquet?: ParquetPort;
}

export interface OptimizeResult {
  /** the commit's version, or undefined when nothing needed compacting */
  version: number | undefined;
  numFilesRemoved: number;
  numFilesAdded: number;
  partitionsOptimized: number;
  bytesRemoved: number;
  bytesAdded: number;
}

const DEFAULT_TARGET = 128 * 1024 * 1024;

export async function optimize(table: DeltaTable, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  const target = options.targetFileSize ?? DEFAULT_TARGET;
  const snapshot = await table.snapshot();
  const partitionColumns = snapshot.partitionColumns;
  const bins = binPack(snapshot.files, partitionColumns, target, options.partitionFilter);
  const result: OptimizeResult = {
    version: undefined,
    numFilesRemoved: 0,
    numFilesAdded: 0,
    partitionsOptimized: new Set(bins.map((b) => b.key)).size,
    bytesRemoved: 0,
    bytesAdded: 0,
  };
  if (bins.length === 0) return result;
  const parquet = options.parquet ?? table.parquetPort;
  const dataColumns = snapshot.schema.filter((f) => !partitionColumns.includes(f.name));
  const removes: AddAction[] = [];
  const adds: AddAction[] = [];
  const written: string[] = [];
  try {
    for (const bin of bins) {
      const directory = partitionDirectory(partitionColumns, bin.partitionValues);
      const relative = directory ? `${directory}/${dataFileName()}` : dataFileName();
      const path = join(table.dir, relative);
      written.push(path);
      const file = await parquet.rewriteFiles(
        dataColumns,
        bin.files.map((f) => f.path),
        path,
      );
      adds.push({
        path: encodeDataPath(relative),
        partitionValues: bin.partitionValues,
        size: file.size,
        modificationTime: Date.now(),
        dataChange: false,
        stats: JSON.stringify(file.stats),
      });
      for (const f of bin.files) {
        removes.push({
          path: f.relativePath,
          partitionValues: f.partitionValues,
          size: f.size,
          modificationTime: f.modificationTime,
          dataChange: false,
        });
      }
    }
    result.bytesRemoved = removes.reduce((n, r) => n + r.size, 0);
    result.bytesAdded = adds.reduce((n, a) => n + a.size, 0);
    const commit = await table.commitRewrite(
      removes,
      adds,
      "OPTIMIZE",
      { targetSize: String(target), predicate: JSON.stringify(options.partitionFilter ?? {}) },
      {
        numFilesRemoved: removes.length,
        numFilesAdded: adds.length,
        partitionsOptimized: result.partitionsOptimized,
        totalFilesSkipped: snapshot.files.length - removes.length,
        bytesRemoved: result.bytesRemoved,
        bytesAdded: result.bytesAdded,
      },
    );
    result.version = commit.version;
    result.numFilesRemoved = removes.length;
    result.numFilesAdded = adds.length;
    return result;
  } catch (error) {
    // nothing references the new files: delete them now rather than leave them to VACUUM
    await Promise.allSettled(written.map((p) => rm(p, { force: true })));
    throw error;
  }
}

interface Bin {
  key: string;
  partitionValues: Record<string, string | null>;
  files: DataFile[];
}

/** Small files per partition, packed first-fit by size into bins of at most `target` bytes. */
export function binPack(
  files: readonly DataFile[],
  partitionColumns: readonly string[],
  target: number,
  filter?: Record<string, string | null>,
): Bin[] {
  const byPartition = new Map<string, DataFile[]>();
  for (const file of files) {
    if (file.size >= target) continue;
    if (filter && Object.entries(filter).some(([c, v]) => (file.partitionValues[c] ?? null) !== v)) continue;
    const key = partitionKey(partitionColumns, file.partitionValues);
    const list = byPartition.get(key) ?? [];
    list.push(file);
    byPartition.set(key, list);
  }
  const bins: Bin[] = [];
  for (const [key, list] of byPartition) {
    list.sort((a, b) => b.size - a.size);
    const open: { size: number; files: DataFile[] }[] = [];
    for (const file of list) {
      const fit = open.find((b) => b.size + file.size <= target);
      if (fit) {
        fit.size += file.size;
        fit.files.push(file);
      } else {
        open.push({ size: file.size, files: [file] });
      }
    }
    for (const bin of open) {
      if (bin.files.length < 2) continue;
      bins.push({
        key,
        partitionValues: { ...(bin.files[0] as DataFile).partitionValues },
        files: bin.files,
      });
    }
  }
  return bins;
}
