import type { FileStats } from "./actions.ts";
import type { DeltaField } from "./schema.ts";

/**
 * The port through which the Delta library writes and reads parquet. The library itself only
 * speaks the Delta protocol; a well-kept parquet implementation sits behind this interface
 * (`duckdb-parquet.ts`). Paths are absolute filesystem paths.
 */
export interface ParquetPort {
  /**
   * Writes each group of rows to its file with the given columns (partition columns already
   * left out) and returns, in the same order, each file's size and statistics. A value that does
   * not fit its column's type is SCHEMA_VIOLATION, and no file of the call is kept.
   */
  writeFiles(columns: readonly DeltaField[], files: readonly FileToWrite[]): Promise<WrittenFile[]>;
  /**
   * Copies the rows of `sources` into one new file with `columns` (absent ones become null),
   * leaving out the rows `exclude` matches (a DELETE's rewrite).
   */
  rewriteFiles(
    columns: readonly DeltaField[],
    sources: readonly string[],
    target: string,
    exclude?: RowMatch,
  ): Promise<WrittenFile>;
  /**
   * The rows of `files`, each with its partition values added as typed columns, every column of
   * `columns` present (null in files written before the column was added).
   */
  readFiles(columns: readonly DeltaField[], files: readonly FileToRead[]): Promise<Record<string, unknown>[]>;
  /** Writes checkpoint rows (one action object each) with the protocol's struct columns. */
  writeCheckpoint(path: string, actions: readonly Record<string, unknown>[]): Promise<number>;
  /** The actions of a checkpoint (all its parts), as JSON objects like those of a commit file. */
  readCheckpoint(paths: readonly string[]): Promise<unknown[]>;
  close(): Promise<void>;
}

/** data column -> the text it equals; a row matches when every named column equals its value */
export type RowMatch = Readonly<Record<string, string>>;

export interface FileToWrite {
  path: string;
  rows: readonly Record<string, unknown>[];
}

export interface WrittenFile {
  size: number;
  stats: FileStats;
}

export interface FileToRead {
  path: string;
  /** typed partition column values (already decoded from the add action's strings) */
  partitionValues: Readonly<Record<string, string | null>>;
}
