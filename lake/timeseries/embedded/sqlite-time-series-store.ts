import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { checkTableDefinition, planQuery, type QueryPlan } from "../query-plan.ts";
import { checkedValue } from "../row-values.ts";
import type {
  ColumnType,
  ColumnValue,
  TableDefinition,
  TimeSeriesQuery,
  TimeSeriesResult,
  TimeSeriesRow,
  TimeSeriesStore,
} from "../time-series-store.ts";

/**
 * The embedded TimeSeriesStore: one bun:sqlite file (WAL), so `bun run cluster` keeps history
 * with nothing installed. bun:sqlite rather than DuckDB: the embedded log already runs on it,
 * its writes are synchronous and small (a sink's batch is one transaction of ~1,000 rows, well
 * under a millisecond per hundred rows), and a unique index plus INSERT OR REPLACE is exactly
 * QuestDB's DEDUP UPSERT KEYS; DuckDB's columnar scans would win only on large analytical reads,
 * which QuestDB serves when it is configured.
 *
 * Mapping onto QuestDB's model: the designated timestamp is an INTEGER of epoch ms with an
 * index; the identity (dedup keys + timestamp) is a UNIQUE index; day partitions have no
 * counterpart (the timestamp index does their job for range reads); the TTL deletes rows older
 * than the newest row minus the TTL, whenever the newest row moved a minute on since the last
 * deletion (QuestDB drops whole day partitions past the same limit, so it may keep up to a day
 * more).
 */
const SQL_TYPE: Readonly<Record<ColumnType, string>> = {
  symbol: "TEXT",
  varchar: "TEXT",
  double: "REAL",
  long: "INTEGER",
  boolean: "INTEGER",
  timestamp: "INTEGER",
};
/** how far the newest row moves on before the TTL deletes again */
const PRUNE_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

const quoted = (identifier: string) => `"${identifier}"`;

interface TableState {
  readonly definition: TableDefinition;
  readonly insert: Statement;
  /** the newest timestamp in the table, and the one the last TTL deletion was measured from */
  newest: number;
  prunedAt: number;
}

export interface SqliteTimeSeriesStoreOptions {
  readonly path: string;
}

export class SqliteTimeSeriesStore implements TimeSeriesStore {
  readonly kind = "embedded";
  private readonly db: Database;
  private readonly tables = new Map<string, TableState>();
  private closed = false;

  constructor(options: SqliteTimeSeriesStoreOptions) {
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path, { create: true, strict: true });
    this.db.run("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode: a committed write survives kill -9 of the process (as the embedded log)
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA busy_timeout = 5000");
  }

  async ensureTable(table: TableDefinition): Promise<void> {
    this.open();
    checkTableDefinition(table);
    const name = quoted(table.name);
    const columns = table.columns.map((c) => `${quoted(c.name)} ${SQL_TYPE[c.type]}`);
    this.db.transaction(() => {
      this.db.run(
        `CREATE TABLE IF NOT EXISTS ${name} (${quoted(table.timestamp)} INTEGER NOT NULL, ${columns.join(", ")})`,
      );
      const present = new Set(
        this.db
          .query<{ name: string }, []>(`SELECT name FROM pragma_table_info('${table.name}')`)
          .all()
          .map((row) => row.name),
      );
      for (const column of table.columns)
        if (!present.has(column.name))
          this.db.run(`ALTER TABLE ${name} ADD COLUMN ${quoted(column.name)} ${SQL_TYPE[column.type]}`);
      const identity = [...table.dedupKeys, table.timestamp].map(quoted).join(", ");
      this.db.run(
        `CREATE UNIQUE INDEX IF NOT EXISTS ${quoted(`${table.name}_identity`)} ON ${name} (${identity})`,
      );
      this.db.run(
        `CREATE INDEX IF NOT EXISTS ${quoted(`${table.name}_ts`)} ON ${name} (${quoted(table.timestamp)})`,
      );
    })();
    const names = [table.timestamp, ...table.columns.map((c) => c.name)];
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO ${name} (${names.map(quoted).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
    );
    const newest =
      this.db
        .query<{ newest: number | null }, []>(`SELECT max(${quoted(table.timestamp)}) AS newest FROM ${name}`)
        .get()?.newest ?? Number.MIN_SAFE_INTEGER;
    this.tables.set(table.name, { definition: table, insert, newest, prunedAt: Number.MIN_SAFE_INTEGER });
  }

  async write(table: TableDefinition, rows: readonly TimeSeriesRow[]): Promise<void> {
    this.open();
    const state = this.tables.get(table.name);
    if (!state) throw new PlatformError(ErrorCodes.NOT_FOUND, `table ${table.name} was not ensured`);
    const { definition } = state;
    const values = rows.map((row) => [
      checkedValue(definition, row, definition.timestamp, "timestamp"),
      ...definition.columns.map((c) => sqliteValue(checkedValue(definition, row, c.name, c.type))),
    ]);
    this.db.transaction(() => {
      for (const row of values) state.insert.run(...(row as (string | number | null)[]));
    })();
    for (const row of values) if ((row[0] as number) > state.newest) state.newest = row[0] as number;
    this.prune(state);
  }

  async query(query: TimeSeriesQuery): Promise<TimeSeriesResult> {
    this.open();
    const plan = planQuery(new Map([...this.tables].map(([name, s]) => [name, s.definition])), query);
    const { sql, params, columns } = plan.downsample ? sampledSql(plan) : rawSql(plan);
    const rows = this.db.query<Record<string, ColumnValue>, (string | number)[]>(sql).values(...params);
    const types = new Map(plan.table.columns.map((c) => [c.name, c.type]));
    const booleans = columns.map((c) => !plan.downsample && types.get(c) === "boolean");
    return {
      columns,
      rows: rows.map((row) =>
        row.map((value, i) => (booleans[i] && value !== null ? value === 1 : (value as ColumnValue))),
      ),
    };
  }

  async deleteRows(table: string, equals: Readonly<Record<string, string>>): Promise<number> {
    this.open();
    const plan = planQuery(new Map([...this.tables].map(([name, s]) => [name, s.definition])), {
      table,
      equals,
      limit: 1,
    });
    if (plan.equals.length === 0)
      throw new PlatformError(ErrorCodes.BAD_REQUEST, "a delete names at least one column");
    const where = plan.equals.map(([column]) => `${quoted(column)} = ?`).join(" AND ");
    return this.db
      .prepare(`DELETE FROM ${quoted(table)} WHERE ${where}`)
      .run(...plan.equals.map(([, value]) => value)).changes;
  }

  async dropTable(name: string): Promise<void> {
    this.open();
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(name))
      throw new PlatformError(ErrorCodes.BAD_REQUEST, `'${name}' is not a table name`);
    this.db.run(`DROP TABLE IF EXISTS ${quoted(name)}`);
    this.tables.delete(name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private open(): void {
    if (this.closed) throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "the time-series store is closed");
  }

  private prune(state: TableState): void {
    const { ttlDays, name, timestamp } = state.definition;
    if (ttlDays === undefined || state.newest - state.prunedAt < PRUNE_EVERY_MS) return;
    state.prunedAt = state.newest;
    this.db.run(`DELETE FROM ${quoted(name)} WHERE ${quoted(timestamp)} < ?`, [
      state.newest - ttlDays * DAY_MS,
    ]);
  }
}

function sqliteValue(value: ColumnValue): string | number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

function whereOf(plan: QueryPlan): { where: string; params: (string | number)[] } {
  const ts = quoted(plan.table.timestamp);
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (plan.from !== undefined) {
    clauses.push(`${ts} >= ?`);
    params.push(plan.from);
  }
  if (plan.to !== undefined) {
    clauses.push(`${ts} < ?`);
    params.push(plan.to);
  }
  for (const [column, value] of plan.equals) {
    clauses.push(`${quoted(column)} = ?`);
    params.push(value);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

function rawSql(plan: QueryPlan) {
  const columns = [plan.table.timestamp, ...plan.table.columns.map((c) => c.name)];
  const { where, params } = whereOf(plan);
  return {
    sql: `SELECT ${columns.map(quoted).join(", ")} FROM ${quoted(plan.table.name)} ${where} ORDER BY ${quoted(plan.table.timestamp)} LIMIT ?`,
    params: [...params, plan.limit],
    columns,
  };
}

/**
 * SAMPLE BY in SQLite: buckets are `ts - ts % interval` (UTC-aligned, since intervals divide a
 * day); first and last take the value of the earliest and latest row of each bucket through a
 * row number over the bucket, so every aggregation is one GROUP BY.
 */
function sampledSql(plan: QueryPlan) {
  const { intervalMs, aggregation } = plan.downsample!;
  const ts = quoted(plan.table.timestamp);
  const { where, params } = whereOf(plan);
  const numeric = plan.numeric.map((c) => quoted(c.name));
  const bucket = `(${ts} - ${ts} % ${intervalMs})`;
  const columns = [plan.table.timestamp, ...plan.numeric.map((c) => c.name)];
  const table = quoted(plan.table.name);
  if (aggregation === "first" || aggregation === "last") {
    const order = aggregation === "first" ? "ASC" : "DESC";
    const picks = numeric.map((c) => `max(CASE WHEN rn = 1 THEN ${c} END) AS ${c}`);
    return {
      sql: `SELECT bucket, ${picks.join(", ")} FROM (SELECT ${bucket} AS bucket, ${numeric.join(", ")}, row_number() OVER (PARTITION BY ${bucket} ORDER BY ${ts} ${order}) AS rn FROM ${table} ${where}) GROUP BY bucket ORDER BY bucket LIMIT ?`,
      params: [...params, plan.limit],
      columns,
    };
  }
  const aggregates = numeric.map((c) => `${aggregation}(${c}) AS ${c}`);
  return {
    sql: `SELECT ${bucket} AS bucket, ${aggregates.join(", ")} FROM ${table} ${where} GROUP BY bucket ORDER BY bucket LIMIT ?`,
    params: [...params, plan.limit],
    columns,
  };
}
