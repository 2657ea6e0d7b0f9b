import { Sender } from "@questdb/nodejs-client";
import { SQL } from "bun";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { checkTableDefinition, planQuery } from "../query-plan.ts";
import { checkedValue } from "../row-values.ts";
import type {
  ColumnValue,
  TableDefinition,
  TimeSeriesQuery,
  TimeSeriesResult,
  TimeSeriesRow,
  TimeSeriesStore,
} from "../time-series-store.ts";
import { alterTableSql, createTableSql, querySql } from "./questdb-sql.ts";

/**
 * The QuestDB TimeSeriesStore: rows go in over ILP/HTTP (`@questdb/nodejs-client`; one HTTP
 * request per batch, acknowledged once QuestDB committed it to the table's WAL, so a batch the
 * store acknowledged survives the writer's crash), tables and queries go over the PG wire
 * (Bun's SQL client) with bind parameters. Tables are WAL tables with DEDUP UPSERT KEYS, so a
 * batch written twice leaves one row per identity; rows become visible once QuestDB applied the
 * WAL (milliseconds later).
 */
export interface QuestDbStoreOptions {
  /** QuestDB's HTTP endpoint (ILP/HTTP and /exec), e.g. http://127.0.0.1:9000 */
  readonly httpUrl: string;
  /** PG wire; default postgres://admin:quest@<http host>:8812/qdb (QuestDB's defaults) */
  readonly pgUrl?: string;
  /** how long the ILP client itself retries a failed request before the write fails; default 1 s */
  readonly retryTimeoutMs?: number;
  /** per-request timeout; default 10 s */
  readonly requestTimeoutMs?: number;
}

interface TableWriter {
  readonly definition: TableDefinition;
  sender: Sender | undefined;
  /** writes to one table go one at a time: they share the sender's buffer */
  queue: Promise<void>;
}

export class QuestDbTimeSeriesStore implements TimeSeriesStore {
  readonly kind = "questdb";
  private readonly sql: SQL;
  private readonly tables = new Map<string, TableWriter>();
  private readonly senderConfig: string;
  private readonly endpoint: string;
  private closed = false;

  constructor(options: QuestDbStoreOptions) {
    const http = new URL(options.httpUrl);
    this.endpoint = `${http.hostname}:${http.port || 9000}`;
    // stdlib_http: the client's default undici agent does not run on Bun
    this.senderConfig =
      `${http.protocol.replace(":", "")}::addr=${this.endpoint};auto_flush=off;stdlib_http=on` +
      `;retry_timeout=${options.retryTimeoutMs ?? 1000};request_timeout=${options.requestTimeoutMs ?? 10_000}`;
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
    const existing = this.tables.get(table.name);
    this.tables.set(table.name, {
      definition: table,
      sender: existing?.sender,
      queue: existing?.queue ?? Promise.resolve(),
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
    const writer = this.tables.get(name);
    this.tables.delete(name);
    await writer?.sender?.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const writers = [...this.tables.values()];
    await Promise.allSettled(writers.map((w) => w.queue));
    const closing = await Promise.allSettled([
      ...writers.map((w) => w.sender?.close()),
      this.sql.close({ timeout: 5 }),
    ]);
    const failed = closing.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0)
      throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "closing the QuestDB store failed", {
        cause: new AggregateError(failed.map((f) => f.reason)),
      });
  }

  private async send(writer: TableWriter, rows: readonly TimeSeriesRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { definition } = writer;
    const symbols = definition.columns.filter((c) => c.type === "symbol");
    const others = definition.columns.filter((c) => c.type !== "symbol");
    const checked = rows.map((row) => ({
      at: checkedValue(definition, row, definition.timestamp, "timestamp") as number,
      symbols: symbols.map((c) => checkedValue(definition, row, c.name, c.type)),
      others: others.map((c) => checkedValue(definition, row, c.name, c.type)),
    }));
    let sender: Sender;
    try {
      writer.sender ??= await Sender.fromConfig(this.senderConfig);
      sender = writer.sender;
    } catch (cause) {
      throw this.unavailable("connecting the ILP sender", cause);
    }
    // ILP wants a row's symbols before its other columns; a null is a column left out
    sender.reset();
    for (const row of checked) {
      sender.table(definition.name);
      for (let i = 0; i < symbols.length; i++) {
        const value = row.symbols[i];
        if (value !== null) sender.symbol(symbols[i]!.name, value as string);
      }
      for (let i = 0; i < others.length; i++) {
        const value = row.others[i];
        if (value === null) continue;
        const name = others[i]!.name;
        switch (others[i]!.type) {
          case "double":
            sender.floatColumn(name, value as number);
            break;
          case "long":
            sender.intColumn(name, value as number);
            break;
          case "boolean":
            sender.booleanColumn(name, value as boolean);
            break;
          case "timestamp":
            sender.timestampColumn(name, value as number, "ms");
            break;
          default:
            sender.stringColumn(name, value as string);
        }
      }
      await sender.at(row.at, "ms");
    }
    try {
      await sender.flush();
    } catch (cause) {
      // the buffer was taken by the failed flush; a fresh sender for the retry
      writer.sender = undefined;
      await sender.close().catch(() => undefined);
      throw this.unavailable(`writing ${rows.length} rows to ${definition.name}`, cause);
    }
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
