import { SQL } from "bun";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { checkTableDefinition, planQuery } from "../query-plan.ts";
import type {
  ColumnValue,
  TableDefinition,
  TimeSeriesQuery,
  TimeSeriesResult,
  TimeSeriesRow,
  TimeSeriesStore,
} from "../time-series-store.ts";
import { type IlpLayout, ilpBody } from "./ilp-lines.ts";
import { alterTableSql, createTableSql, querySql } from "./questdb-sql.ts";

/**
 * The QuestDB TimeSeriesStore: rows go in over ILP/HTTP (one POST /write per batch, answered
 * once QuestDB committed the batch to the table's WAL in one transaction, so a batch the store
 * acknowledged survives the writer's crash), tables and queries go over the PG wire (Bun's SQL
 * client) with bind parameters. Tables are WAL tables with DEDUP UPSERT KEYS, so a batch written
 * twice leaves one row per identity; rows become visible once QuestDB applied the WAL
 * (milliseconds later).
 *
 * The lines are encoded here (`ilp-lines.ts`), not by `@questdb/nodejs-client`: its buffer
 * writes names and values one character at a time, which on Bun capped it below the sink's
 * target (`bench/timeseries-sink.ts` keeps the client as the baseline and shows both).
 */
export interface QuestDbStoreOptions {
  /** QuestDB's HTTP endpoint (ILP/HTTP and /exec), e.g. http://127.0.0.1:9000 */
  readonly httpUrl: string;
  /** PG wire; default postgres://admin:quest@<http host>:8812/qdb (QuestDB's defaults) */
  readonly pgUrl?: string;
  /** per-request timeout; default 10 s */
  readonly requestTimeoutMs?: number;
}

interface TableWriter {
  readonly definition: TableDefinition;
  readonly layout: IlpLayout;
  /** writes to one table go one at a time, in order, as one sink writes them */
  queue: Promise<void>;
}

export class QuestDbTimeSeriesStore implements TimeSeriesStore {
  readonly kind = "questdb";
  private readonly sql: SQL;
  private readonly tables = new Map<string, TableWriter>();
  private readonly writeUrl: string;
  private readonly requestTimeoutMs: number;
  private readonly endpoint: string;
  private closed = false;

  constructor(options: QuestDbStoreOptions) {
    const http = new URL(options.httpUrl);
    this.endpoint = `${http.hostname}:${http.port || 9000}`;
    this.writeUrl = `${http.protocol}//${this.endpoint}/write?precision=u`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.sql = new SQL({
      url: options.pgUrl ?? `postgres://admin:quest@${http.hostname}:8812/qdb`,
      max: 4,
      idleTimeout: 30,
      connectionTimeout: 5,
    });
  }

  async ensureTable(table: TableDefinition): Promise<void> {
    this.open();
    checkTableDefinition(table);
    await this.run(createTableSql(table), []);
    // QuestDB refuses an ALTER that changes nothing on a WAL table: alter only what differs
    // table_columns() takes no bind parameter; the name is a checked identifier
    const present = (await this.run(
      `SELECT "column", upsertKey FROM table_columns('${table.name}')`,
      [],
      "values",
    )) as [string, boolean][];
    const ttl = (await this.run(
      "SELECT ttlValue, ttlUnit FROM tables() WHERE table_name = $1",
      [table.name],
      "values",
    )) as [number, string][];
    for (const statement of alterTableSql(table, {
      columns: new Set(present.map(([name]) => name)),
      upsertKeys: new Set(present.filter(([, key]) => key).map(([name]) => name)),
      ttlDays: ttlDaysOf(ttl[0]),
    }))
      await this.run(statement, []);
    await this.restoreStaged(table.name);
    this.tables.set(table.name, {
      definition: table,
      layout: {
        table: table.name,
        symbols: table.columns.filter((c) => c.type === "symbol"),
        fields: table.columns.filter((c) => c.type !== "symbol"),
      },
      queue: this.tables.get(table.name)?.queue ?? Promise.resolve(),
    });
  }

  write(table: TableDefinition, rows: readonly TimeSeriesRow[]): Promise<void> {
    this.open();
    const writer = this.tables.get(table.name);
    if (!writer)
      return Promise.reject(new PlatformError(ErrorCodes.NOT_FOUND, `table ${table.name} was not ensured`));
    const done = writer.queue.then(() => this.send(writer, rows));
    writer.queue = done.catch(() => undefined); // the next write starts after this one, failed or not
    return done;
  }

  async query(query: TimeSeriesQuery): Promise<TimeSeriesResult> {
    this.open();
    const plan = planQuery(new Map([...this.tables].map(([name, w]) => [name, w.definition])), query);
    const { sql, params, columns } = querySql(plan);
    const rows = (await this.run(sql, params, "values")) as unknown[][];
    const numericOut = plan.downsample !== undefined;
    const types = new Map(plan.table.columns.map((c) => [c.name, c.type]));
    return {
      columns,
      rows: rows.map((row) =>
        row.map((value, i) =>
          fromPg(value, i === 0 ? "timestamp" : numericOut ? "double" : types.get(columns[i]!)),
        ),
      ),
    };
  }

  /**
   * QuestDB has no row DELETE (its UPDATE could only blank the rows, leaving their timestamps and
   * counts). Each day partition holding matching rows is rewritten without them, as QuestDB's own
   * guide to removing data says: the day's other rows are copied to a staging table, the partition
   * is dropped, the copy inserted back (DEDUP keeps a retried insert exact) and the stage dropped.
   * This store's writes to the table wait meanwhile (they share the table's queue), so a sink of
   * this node loses nothing; a write from another process landing between the copy and the drop
   * would be lost, which is why erasure runs where the table's sink runs.
   */
  async deleteRows(table: string, equals: Readonly<Record<string, string>>): Promise<number> {
    this.open();
    const plan = planQuery(new Map([...this.tables].map(([name, w]) => [name, w.definition])), {
      table,
      equals,
      limit: 1,
    });
    if (plan.equals.length === 0)
      throw new PlatformError(ErrorCodes.BAD_REQUEST, "a delete names at least one column");
    const writer = this.tables.get(table)!;
    const done = writer.queue.then(async () => {
      await this.restoreStaged(table);
      return this.rewriteWithout(plan.table, plan.equals);
    });
    writer.queue = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  private async rewriteWithout(
    definition: TableDefinition,
    equals: readonly (readonly [string, string])[],
  ): Promise<number> {
    const name = definition.name;
    const ts = definition.timestamp;
    await this.awaitApplied(name);
    const match = equals.map(([column], i) => `${column} = $${i + 1}`).join(" AND ");
    const days = (await this.run(
      `SELECT timestamp_floor('d', ${ts}) AS day, count() AS n FROM ${name} WHERE ${match}`,
      equals.map(([, value]) => value),
      "values",
    )) as [Date | string, number | string | bigint][];
    let deleted = 0;
    for (const [dayStart, count] of days) {
      const from = new Date(fromPg(dayStart, "timestamp") as number);
      const day = from.toISOString().slice(0, 10);
      const to = new Date(from.getTime() + 86_400_000);
      // CREATE TABLE AS takes no bind parameters: the values are SQL literals, quotes doubled
      const keep = `NOT (${equals.map(([column, value]) => `${column} = ${sqlLiteral(value)}`).join(" AND ")})`;
      const stage = `${stagePrefix(name)}${crypto.randomUUID().slice(0, 8)}`;
      await this.run(
        `CREATE TABLE ${stage} AS (SELECT * FROM ${name} WHERE ${ts} >= '${from.toISOString()}' AND ${ts} < '${to.toISOString()}' AND ${keep}) TIMESTAMP(${ts}) PARTITION BY DAY BYPASS WAL`,
        [],
      );
      await this.run(`ALTER TABLE ${name} DROP PARTITION LIST '${day}'`, []);
      try {
        await this.run(`INSERT INTO ${name} SELECT * FROM ${stage}`, []);
      } catch (cause) {
        // the day's other rows are only in the stage now: keep it, and say how to put them back
        throw new PlatformError(
          ErrorCodes.ERASURE_INCOMPLETE,
          `QuestDB: ${name}'s day ${day} was dropped but its other rows could not be inserted back; they are in table ${stage} (INSERT INTO ${name} SELECT * FROM ${stage})`,
          { cause },
        );
      }
      await this.run(`DROP TABLE ${stage}`, []);
      deleted += Number(count);
    }
    await this.awaitApplied(name);
    return deleted;
  }

  /**
   * Puts back the rows of a rewrite that stopped between its copy and its insert (the process
   * died, QuestDB refused the insert): each staging table of `table` left behind is inserted
   * (DEDUP makes rows the table still has a no-op) and dropped. Runs when the table is ensured,
   * so a node that restarts after such a crash loses nothing, and before each delete.
   */
  private async restoreStaged(table: string): Promise<void> {
    const prefix = stagePrefix(table);
    const names = (await this.run(
      "SELECT table_name FROM tables() WHERE starts_with(table_name, $1)",
      [prefix],
      "values",
    )) as [string][];
    for (const [stage] of names) {
      if (!new RegExp(`^${prefix}[0-9a-f]{8}$`).test(stage)) continue;
      // the stage's own columns by name: the table may have gained columns since
      const columns = (
        (await this.run(`SELECT "column" FROM table_columns('${stage}')`, [], "values")) as [string][]
      ).map(([column]) => column);
      const list = columns.join(", ");
      await this.run(`INSERT INTO ${table} (${list}) SELECT ${list} FROM ${stage}`, []);
      await this.run(`DROP TABLE ${stage}`, []);
    }
  }

  /**
   * resolves once QuestDB applied every committed WAL transaction of the table, so a query sees
   * every acknowledged write (tests and benchmarks; the port itself only promises acceptance)
   */
  async awaitApplied(table: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = (await this.run(
        "SELECT writerTxn, sequencerTxn, suspended FROM wal_tables() WHERE name = $1",
        [table],
        "values",
      )) as unknown[][];
      const [writer, sequencer, suspended] = rows[0] ?? [0, 0, false];
      if (suspended === true)
        throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `QuestDB suspended the WAL of ${table}`);
      if (Number(writer) >= Number(sequencer)) return;
      if (Date.now() > deadline)
        throw new PlatformError(
          ErrorCodes.INFRA_UNAVAILABLE,
          `QuestDB did not apply ${table}'s WAL in ${timeoutMs} ms`,
        );
      await Bun.sleep(20);
    }
  }

  async dropTable(name: string): Promise<void> {
    this.open();
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(name))
      throw new PlatformError(ErrorCodes.BAD_REQUEST, `'${name}' is not a table name`);
    await this.run(`DROP TABLE IF EXISTS ${name}`, []);
    this.tables.delete(name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.tables.values()].map((w) => w.queue));
    try {
      await this.sql.close({ timeout: 5 });
    } catch (cause) {
      throw this.unavailable("closing the PG connections", cause);
    }
  }

  private async send(writer: TableWriter, rows: readonly TimeSeriesRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { definition, layout } = writer;
    const body = ilpBody(definition, layout, rows);
    let response: Response;
    try {
      response = await fetch(this.writeUrl, {
        method: "POST",
        body,
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (cause) {
      throw this.unavailable(`writing ${rows.length} rows to ${definition.name}`, cause);
    }
    if (response.status === 204 || response.ok) {
      await response.body?.cancel();
      return;
    }
    const answer = await response.text();
    // 4xx: QuestDB refused the lines (a type clash with the table); 5xx: it could not take them now
    const code = response.status < 500 ? ErrorCodes.SCHEMA_VIOLATION : ErrorCodes.INFRA_UNAVAILABLE;
    throw new PlatformError(
      code,
      `QuestDB at ${this.endpoint} answered ${response.status} to ${rows.length} rows for ${definition.name}: ${answer.slice(0, 300)}`,
    );
  }

  private async run(sql: string, params: readonly unknown[], shape?: "values"): Promise<unknown> {
    try {
      const query = this.sql.unsafe(sql, params as unknown[]);
      return shape === "values" ? await query.values() : await query;
    } catch (cause) {
      const server = (cause as { errno?: unknown; severity?: unknown }).severity === "ERROR";
      // QuestDB refused the statement (a server-side error): not an outage, the query is at fault
      if (server)
        throw new PlatformError(
          ErrorCodes.BAD_REQUEST,
          `QuestDB refused the statement: ${messageOf(cause)}`,
          {
            cause,
          },
        );
      throw this.unavailable("a QuestDB statement", cause);
    }
  }

  private unavailable(what: string, cause: unknown): PlatformError {
    // the endpoint, never the credentials: pgUrl may carry a password
    return new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `QuestDB at ${this.endpoint}: ${what} failed`, {
      cause,
    });
  }

  private open(): void {
    if (this.closed) throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "the time-series store is closed");
  }
}

function ttlDaysOf(row: [number, string] | undefined): number | undefined {
  const [value, unit] = row ?? [0, ""];
  if (!value) return undefined;
  const perDay: Record<string, number> = { HOUR: 1 / 24, DAY: 1, WEEK: 7, MONTH: 30, YEAR: 365 };
  return value * (perDay[unit.toUpperCase()] ?? 1);
}

/** the staging tables of a rewrite of `table`: `<table>_erase_<8 hex>` (QuestDB takes names up to 127) */
function stagePrefix(table: string): string {
  return `${table}_erase_`;
}

function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** PG wire values back to the port's: timestamps as epoch ms, LONG (sent as text) as numbers */
function fromPg(value: unknown, type: string | undefined): ColumnValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (type === "timestamp" && typeof value === "string") return Date.parse(value);
  if ((type === "long" || type === "double") && (typeof value === "string" || typeof value === "bigint"))
    return Number(value);
  if (typeof value === "number" && Number.isNaN(value)) return null;
  return value as ColumnValue;
}
