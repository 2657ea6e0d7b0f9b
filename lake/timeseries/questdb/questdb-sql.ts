import type { QueryPlan } from "../query-plan.ts";
import { intervalText } from "../query-plan.ts";
import type { ColumnType, TableDefinition } from "../time-series-store.ts";

/**
 * QuestDB SQL for the port's operations. Identifiers come from checked table definitions only
 * (`checkTableDefinition`); every value a caller supplies travels as a PG-wire bind parameter
 * ($1, $2, ...). The interval is printed from a number the plan checked, never from caller text.
 */
const QUESTDB_TYPE: Readonly<Record<ColumnType, string>> = {
  symbol: "SYMBOL",
  varchar: "VARCHAR",
  double: "DOUBLE",
  long: "LONG",
  boolean: "BOOLEAN",
  timestamp: "TIMESTAMP",
};

/** CREATE TABLE with day partitions, TTL, WAL (DEDUP needs it) and the dedup keys */
export function createTableSql(table: TableDefinition): string {
  const columns = [
    `${table.timestamp} TIMESTAMP`,
    ...table.columns.map((c) => `${c.name} ${QUESTDB_TYPE[c.type]}`),
  ];
  const ttl = table.ttlDays === undefined ? "" : ` TTL ${table.ttlDays} DAYS`;
  return (
    `CREATE TABLE IF NOT EXISTS ${table.name} (${columns.join(", ")}) TIMESTAMP(${table.timestamp})` +
    ` PARTITION BY DAY${ttl} WAL DEDUP UPSERT KEYS(${[table.timestamp, ...table.dedupKeys].join(", ")})`
  );
}

/** what the table has now (QuestDB's table_columns() and tables()) */
export interface ExistingTable {
  readonly columns: ReadonlySet<string>;
  readonly upsertKeys: ReadonlySet<string>;
  readonly ttlDays: number | undefined;
}

/** what makes an existing table match its definition: missing columns, dedup keys, TTL */
export function alterTableSql(table: TableDefinition, existing: ExistingTable): string[] {
  const keys = [table.timestamp, ...table.dedupKeys];
  const sameKeys = keys.length === existing.upsertKeys.size && keys.every((k) => existing.upsertKeys.has(k));
  return [
    ...table.columns
      .filter((c) => !existing.columns.has(c.name))
      .map((c) => `ALTER TABLE ${table.name} ADD COLUMN ${c.name} ${QUESTDB_TYPE[c.type]}`),
    ...(sameKeys ? [] : [`ALTER TABLE ${table.name} DEDUP ENABLE UPSERT KEYS(${keys.join(", ")})`]),
    ...(table.ttlDays === undefined || table.ttlDays === existing.ttlDays
      ? []
      : [`ALTER TABLE ${table.name} SET TTL ${table.ttlDays} DAYS`]),
  ];
}

export interface BoundSql {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly columns: readonly string[];
}

export function querySql(plan: QueryPlan): BoundSql {
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const ts = plan.table.timestamp;
  const clauses: string[] = [];
  if (plan.from !== undefined) clauses.push(`${ts} >= ${bind(new Date(plan.from))}`);
  if (plan.to !== undefined) clauses.push(`${ts} < ${bind(new Date(plan.to))}`);
  for (const [column, value] of plan.equals) clauses.push(`${column} = ${bind(value)}`);
  const where = clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : "";
  if (!plan.downsample) {
    const columns = [ts, ...plan.table.columns.map((c) => c.name)];
    return {
      sql: `SELECT ${columns.join(", ")} FROM ${plan.table.name}${where} ORDER BY ${ts} LIMIT ${bind(plan.limit)}`,
      params,
      columns,
    };
  }
  const { intervalMs, aggregation } = plan.downsample;
  const aggregates = plan.numeric.map((c) => `${aggregation}(${c.name}) ${c.name}`);
  return {
    sql:
      `SELECT ${ts}, ${aggregates.join(", ")} FROM ${plan.table.name}${where}` +
      ` SAMPLE BY ${intervalText(intervalMs)} ALIGN TO CALENDAR LIMIT ${bind(plan.limit)}`,
    params,
    columns: [ts, ...plan.numeric.map((c) => c.name)],
  };
}
