/**
 * The TimeSeriesStore port: tables of timestamped rows, written idempotently and read back with
 * downsampling.
 *
 * Adapters: `questdb/` (QuestDB over ILP/HTTP and PG wire) and `embedded/` (bun:sqlite, the
 * zero-setup default). Both pass the contract suite in `test/lake/timeseries/time-series-store.contract.ts`.
 *
 * Semantics every adapter keeps:
 * - A table has a designated timestamp (epoch ms on this side of the port), partitions by day
 *   and may have a retention (TTL) in days.
 * - A row's identity is its timestamp plus the table's `dedupKeys` (QuestDB's DEDUP UPSERT KEYS):
 *   writing a row whose identity exists replaces it, so a batch written twice (a sink replaying
 *   after a crash) leaves exactly one row per identity.
 * - `write` resolves only when the store has accepted the rows (they survive the writer's crash);
 *   they may become visible to queries a moment later (QuestDB applies its WAL asynchronously).
 * - A query reads `[from, to)`, filters by equality on SYMBOL columns, and either returns rows in
 *   timestamp order or downsamples them (QuestDB's SAMPLE BY, calendar-aligned in UTC) with one
 *   aggregation over every numeric column. Results are bounded by `limit`.
 */

export type ColumnType = "symbol" | "double" | "long" | "varchar" | "boolean" | "timestamp";

export interface ColumnDefinition {
  readonly name: string;
  readonly type: ColumnType;
}

export interface TableDefinition {
  /** lower-case letters, digits and '_' (both stores take it as an identifier as it is) */
  readonly name: string;
  /** the designated timestamp column: epoch ms in rows and results */
  readonly timestamp: string;
  /** every other column, in order */
  readonly columns: readonly ColumnDefinition[];
  /** with the timestamp, the row's identity; each must be a column that every row carries */
  readonly dedupKeys: readonly string[];
  /** rows older than this many days behind the newest row are dropped; undefined keeps them */
  readonly ttlDays?: number;
}

export type ColumnValue = number | string | boolean | null;

/** column name -> value; the timestamp column is epoch ms; a missing column is null */
export type TimeSeriesRow = Readonly<Record<string, ColumnValue | undefined>>;

export const AGGREGATIONS = ["avg", "min", "max", "sum", "count", "first", "last"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface Downsample {
  /** bucket width; divides a day, so buckets start at the same instants on both stores */
  readonly intervalMs: number;
  readonly aggregation: Aggregation;
}

export interface TimeSeriesQuery {
  readonly table: string;
  /** inclusive, epoch ms */
  readonly from?: number;
  /** exclusive, epoch ms */
  readonly to?: number;
  /** SYMBOL column -> the value it must equal */
  readonly equals?: Readonly<Record<string, string>>;
  readonly downsample?: Downsample;
  /** at most this many rows (buckets when downsampled) */
  readonly limit: number;
}

export interface TimeSeriesResult {
  /** the timestamp column first; downsampled: the timestamp and every numeric column */
  readonly columns: readonly string[];
  /** in timestamp order; timestamps as epoch ms */
  readonly rows: readonly (readonly ColumnValue[])[];
}

export interface TimeSeriesStore {
  /** `questdb` or `embedded`, for /health, logs and metrics */
  readonly kind: string;
  /**
   * create the table if missing, with its dedup keys, day partitions and TTL; an existing table
   * keeps its rows, gets columns it lacks and the TTL it is given
   */
  ensureTable(table: TableDefinition): Promise<void>;
  /** idempotent upsert by (timestamp, dedupKeys); resolves when the store accepted the rows */
  write(table: TableDefinition, rows: readonly TimeSeriesRow[]): Promise<void>;
  query(query: TimeSeriesQuery): Promise<TimeSeriesResult>;
  /**
   * deletes every row of an ensured table whose SYMBOL columns equal the given values (a deletion
   * request for an entity); resolves with how many rows were deleted once no query returns them
   */
  deleteRows(table: string, equals: Readonly<Record<string, string>>): Promise<number>;
  dropTable(name: string): Promise<void>;
  close(): Promise<void>;
}

/** numeric columns: the ones a downsample aggregates */
export function numericColumns(table: TableDefinition): ColumnDefinition[] {
  return table.columns.filter((c) => c.type === "double" || c.type === "long");
}
