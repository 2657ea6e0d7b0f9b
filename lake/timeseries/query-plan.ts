import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import {
  AGGREGATIONS,
  type Aggregation,
  type ColumnDefinition,
  numericColumns,
  type TableDefinition,
  type TimeSeriesQuery,
} from "./time-series-store.ts";

/**
 * The checks both adapters make before a table or a query reaches SQL: identifiers come only
 * from table definitions (never from the caller), values travel as bind parameters, and the
 * shape of a query (range, filters, bucket, limit) is bounded here once.
 */
const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;
/** a caller's text in an error message, cut short */
const echo = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}...` : text);
const DAY_MS = 86_400_000;
/** the largest result a query may ask for */
export const MAX_QUERY_ROWS = 100_000;

export interface QueryPlan {
  readonly table: TableDefinition;
  readonly from: number | undefined;
  readonly to: number | undefined;
  /** (SYMBOL column, value) pairs, in the table's column order */
  readonly equals: readonly (readonly [string, string])[];
  readonly downsample: { readonly intervalMs: number; readonly aggregation: Aggregation } | undefined;
  /** the numeric columns a downsample aggregates */
  readonly numeric: readonly ColumnDefinition[];
  readonly limit: number;
}

export function checkTableDefinition(table: TableDefinition): void {
  const names = [table.timestamp, ...table.columns.map((c) => c.name)];
  for (const name of [table.name, ...names])
    if (!IDENTIFIER.test(name))
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `'${name}' is not a valid table or column name`);
  if (new Set(names).size !== names.length)
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `table ${table.name} names a column twice`);
  for (const key of table.dedupKeys)
    if (!table.columns.some((c) => c.name === key))
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `dedup key ${key} is not a column of ${table.name}`);
  if (table.ttlDays !== undefined && !(Number.isInteger(table.ttlDays) && table.ttlDays > 0))
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `TTL of ${table.name} must be a positive number of days`,
    );
}

/** the query checked against the table it names; NOT_FOUND for an unknown table, BAD_REQUEST else */
export function planQuery(tables: ReadonlyMap<string, TableDefinition>, query: TimeSeriesQuery): QueryPlan {
  const table = tables.get(query.table);
  if (!table) throw new PlatformError(ErrorCodes.NOT_FOUND, `no time-series table '${echo(query.table)}'`);
  const bad = (message: string) => new PlatformError(ErrorCodes.BAD_REQUEST, message);
  for (const [name, at] of [
    ["from", query.from],
    ["to", query.to],
  ] as const)
    if (at !== undefined && !Number.isSafeInteger(at)) throw bad(`${name} must be an epoch millisecond`);
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to)
    throw bad("from must be before to");
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_QUERY_ROWS)
    throw bad(`limit must be an integer from 1 to ${MAX_QUERY_ROWS}`);
  const equals: (readonly [string, string])[] = [];
  const wanted = query.equals ?? {};
  for (const name of Object.keys(wanted)) {
    const column = table.columns.find((c) => c.name === name);
    if (column?.type !== "symbol") throw bad(`${table.name} has no symbol column '${echo(name)}'`);
  }
  for (const column of table.columns) {
    const value = wanted[column.name];
    if (value !== undefined) equals.push([column.name, value]);
  }
  const downsample = query.downsample;
  if (downsample) {
    const { intervalMs, aggregation } = downsample;
    if (!Number.isInteger(intervalMs) || intervalMs < 1000 || DAY_MS % intervalMs !== 0)
      throw bad("the interval must be whole seconds that divide a day (1s ... 1d)");
    if (!(AGGREGATIONS as readonly string[]).includes(aggregation))
      throw bad(`agg must be one of ${AGGREGATIONS.join(", ")}`);
  }
  return {
    table,
    from: query.from,
    to: query.to,
    equals,
    downsample,
    numeric: numericColumns(table),
    limit: query.limit,
  };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** `30s`, `1m`, `15m`, `1h`, `1d` (QuestDB's SAMPLE BY units) -> ms; undefined if malformed */
export function parseInterval(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,4})([smhd])$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** ms -> the shortest SAMPLE BY text for it (`60000` -> `1m`) */
export function intervalText(ms: number): string {
  for (const unit of ["d", "h", "m"] as const)
    if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  return `${ms / 1000}s`;
}
