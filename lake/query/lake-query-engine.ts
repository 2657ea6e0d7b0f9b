import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  JsonDuckDBValueConverter,
  StatementType,
} from "@duckdb/node-api";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { DeltaTable, TimeTravel } from "../delta/delta-table.ts";
import { quoteIdent } from "../delta/schema.ts";
import type { LakeView } from "../tables/gold.ts";
import { snapshotSelect } from "./snapshot-view.ts";

/**
 * Read-only SQL over the lake, for analysts (`POST /api/lake/query`), with DuckDB.
 *
 * Why DuckDB: it runs in the process (`@duckdb/node-api` works in Bun), reads parquet with
 * projection and filter pushdown on all cores, and its SQL (window functions, date_trunc,
 * approximate quantiles) is what an analyst expects; the Delta library already writes parquet
 * through it, so the lake has one engine. Each table is a temporary view over the parquet files
 * of its snapshot (`snapshot-view.ts`); time travel picks another snapshot for the view.
 *
 * Read-only is enforced by DuckDB itself, not by looking at the text:
 * - the instance may touch files under the lake folder only (`allowed_directories`, then
 *   `enable_external_access = false`), installs and loads no extension, and its configuration is
 *   locked before any query runs (`lock_configuration`): a query cannot undo any of it;
 * - the statement is parsed by DuckDB (`extractStatements`): exactly one, and its prepared
 *   statement type must be SELECT (so no COPY, ATTACH, INSTALL, CREATE, PRAGMA, SET, CALL);
 * - each query runs on its own connection, whose temporary views die with it.
 * Limits: rows (the result is read as a stream up to the limit), bytes of the answer, time (the
 * connection is interrupted), memory (`max_memory`) and queries at once.
 */
export interface LakeQuery {
  readonly sql: string;
  /** per table: the version to read (Delta's VERSION AS OF) */
  readonly versions?: Readonly<Record<string, number>>;
  /** every table as it was at this instant, epoch ms or ISO 8601 (TIMESTAMP AS OF) */
  readonly asOf?: number | string;
  readonly limit?: number;
  readonly timeoutMs?: number;
}

export interface LakeQueryResult {
  readonly columns: readonly { name: string; type: string }[];
  readonly rows: readonly Record<string, unknown>[];
  readonly truncated: boolean;
  /** the version of each table the query read */
  readonly versions: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

export interface LakeQueryEngineOptions {
  readonly lakeDir: string;
  /** the tables a query may name, by name */
  readonly tables: () => ReadonlyMap<string, DeltaTable>;
  /** views over the tables a query may name too */
  readonly views?: readonly LakeView[];
  readonly defaultLimit?: number;
  readonly maxLimit?: number;
  readonly defaultTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
  /** bytes of the rows' JSON past which the answer is cut (default 8 MiB) */
  readonly maxResultBytes?: number;
  /** queries running at once; more are refused with LAKE_QUERY_BUSY (default 4) */
  readonly maxConcurrent?: number;
  /** DuckDB's memory limit (default 1GB) and threads (default: DuckDB's, the cores) */
  readonly memoryLimit?: string;
  readonly threads?: number;
}

const MAX_SQL_CHARS = 100_000;
/**
 * Relations one query may bring to the planner (tables, table functions, subqueries, VALUES; a
 * view or CTE counted with its own relations wherever it is used). DuckDB's join-order search
 * grows steeply with them (here: 50 joins planned in 64 ms, 100 in 0.85 s, 400 for minutes) and
 * does not always answer an interrupt while it plans: a 400-table join held a node's query slot
 * and a core past its timeout. So the bound is checked on the parsed statement, before planning.
 */
const MAX_RELATIONS = 64;
/** after a query's time is up, how often it is interrupted again until it stops */
const REINTERRUPT_MS = 50;
/** the alias of the caller's SELECT when it is wrapped to measure its rows */
const ROW = "__lake_row";

export class LakeQueryEngine {
  private running = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly options: LakeQueryEngineOptions,
    private readonly lakeDir: string,
  ) {}

  static async open(options: LakeQueryEngineOptions): Promise<LakeQueryEngine> {
    const lakeDir = resolve(options.lakeDir);
    await mkdir(lakeDir, { recursive: true });
    const instance = await DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
      max_memory: options.memoryLimit ?? "1GB",
      ...(options.threads ? { threads: String(options.threads) } : {}),
    });
    const setup = await instance.connect();
    try {
      // order matters: the allowed folder is set before access is closed, and the lock comes last
      // date_trunc('hour', ...) and friends work in UTC, as the lake's dates and hours do
      await setup.run("SET GLOBAL TimeZone = 'UTC'");
      await setup.run(`SET allowed_directories = [${sqlText(`${lakeDir}/`)}]`);
      await setup.run("SET enable_external_access = false");
      await setup.run("SET lock_configuration = true");
    } finally {
      setup.closeSync();
    }
    return new LakeQueryEngine(instance, options, lakeDir);
  }

  async query(request: LakeQuery): Promise<LakeQueryResult> {
    const started = performance.now();
    const limit = this.bounded(
      "limit",
      request.limit,
      this.options.defaultLimit ?? 1000,
      this.options.maxLimit ?? 10_000,
    );
    const timeoutMs = this.bounded(
      "timeoutMs",
      request.timeoutMs,
      this.options.defaultTimeoutMs ?? 30_000,
      this.options.maxTimeoutMs ?? 120_000,
    );
    if (typeof request.sql !== "string" || request.sql.trim() === "") {
      throw new PlatformError(ErrorCodes.LAKE_QUERY_INVALID, "sql must be a non-empty string");
    }
    if (request.sql.length > MAX_SQL_CHARS) {
      throw new PlatformError(
        ErrorCodes.LAKE_QUERY_INVALID,
        `sql is longer than ${MAX_SQL_CHARS} characters`,
      );
    }
    const internal = engineInternalAskedFor(request.sql);
    if (internal !== undefined) {
      throw new PlatformError(
        ErrorCodes.LAKE_QUERY_INVALID,
        `${internal} is not available: a lake query reads the lake's tables, not the engine's settings, files or environment`,
      );
    }
    if ((this.options.maxConcurrent ?? 4) <= this.running) {
      throw new PlatformError(ErrorCodes.LAKE_QUERY_BUSY, "too many lake queries at once; try again shortly");
    }
    this.running++;
    // the deadline covers the whole query, from here: reading the tables' snapshots and planning
    // can take as long as the statement (a table's log read behind a busy disk, an optimizer)
    const deadline = new QueryDeadline(timeoutMs);
    let connection: DuckDBConnection | undefined;
    try {
      const tables = this.options.tables();
      const at = this.timeTravel(request, tables);
      connection = await this.instance.connect();
      deadline.watch(connection);
      const views = (this.options.views ?? []).filter((v) => mentions(request.sql, v.name));
      const needed = new Set(views.flatMap((v) => v.uses));
      const versions: Record<string, number> = {};
      for (const [name, table] of tables) {
        // a table the text does not mention needs no view (its name would appear to be used)
        if (!needed.has(name) && !mentions(request.sql, name) && request.versions?.[name] === undefined)
          continue;
        const snapshot = await table.snapshot(at(name));
        deadline.check();
        versions[name] = snapshot.version;
        await connection.run(`CREATE TEMP VIEW ${quoteIdent(name)} AS ${snapshotSelect(snapshot)}`);
      }
      for (const view of views)
        await connection.run(`CREATE TEMP VIEW ${quoteIdent(view.name)} AS ${view.sql}`);
      const relations = await plannedRelations(connection, request.sql, views);
      if (relations > MAX_RELATIONS)
        throw new PlatformError(
          ErrorCodes.LAKE_QUERY_INVALID,
          `the query reads ${relations} relations (tables, table functions, subqueries; views and CTEs counted where used); at most ${MAX_RELATIONS} can be planned within a query's time`,
        );
      deadline.check();
      const rows = await this.runStatement(connection, request.sql, limit);
      return { ...rows, versions, elapsedMs: Math.round(performance.now() - started) };
    } catch (error) {
      throw this.clientError(deadline.passed ? deadline.timeoutError(error) : error);
    } finally {
      deadline.clear();
      this.running--;
      connection?.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }

  private async runStatement(
    connection: DuckDBConnection,
    sql: string,
    limit: number,
  ): Promise<Pick<LakeQueryResult, "columns" | "rows" | "truncated">> {
    const extracted = await connection.extractStatements(sql);
    if (extracted.count !== 1) {
      throw new PlatformError(
        extracted.count === 0 ? ErrorCodes.LAKE_QUERY_INVALID : ErrorCodes.LAKE_QUERY_NOT_READ_ONLY,
        `one SELECT statement is allowed, got ${extracted.count} statements`,
      );
    }
    const statement = await extracted.prepare(0);
    try {
      if (statement.statementType !== StatementType.SELECT) {
        throw new PlatformError(
          ErrorCodes.LAKE_QUERY_NOT_READ_ONLY,
          `only SELECT statements are allowed, this is a ${StatementType[statement.statementType] ?? "other"} statement`,
        );
      }
      const sized = await this.sizedStatement(connection, sql);
      try {
        const result = await (sized ?? statement).stream();
        // the sized statement's last column is each row's JSON size, not the caller's
        const names = result.deduplicatedColumnNames().slice(0, sized ? -1 : undefined);
        const columns = names.map((name, i) => ({ name, type: result.columnType(i).toString() }));
        const maxBytes = this.options.maxResultBytes ?? 8 * 1024 * 1024;
        const rows: Record<string, unknown>[] = [];
        let bytes = 0;
        // chunk by chunk (2,048 rows): the limits hold while the answer is read, not after
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) return { columns, rows, truncated: false };
          const sizes = sized ? chunk.getColumnVector(names.length) : undefined;
          for (let r = 0; r < chunk.rowCount; r++) {
            // a row over the byte limit is cut before it becomes JavaScript values, so one huge
            // value (repeat('x', 1e8), a list of millions) never lands on the main thread
            const size = sizes ? Number(sizes.getItem(r)) : undefined;
            if (size !== undefined && (rows.length === limit || bytes + size > maxBytes))
              return { columns, rows, truncated: true };
            const values = chunk.convertRowValues(r, JsonDuckDBValueConverter);
            const row: Record<string, unknown> = {};
            names.forEach((name, c) => {
              row[name] = values[c] ?? null;
            });
            bytes += size ?? JSON.stringify(row).length;
            if (rows.length === limit || bytes > maxBytes) return { columns, rows, truncated: true };
            rows.push(row);
          }
        }
      } finally {
        sized?.destroySync();
      }
    } finally {
      statement.destroySync();
    }
  }

  /**
   * The caller's SELECT with each row's JSON size beside it, measured by DuckDB (under its memory
   * limit and the query's interrupt) so the byte limit can cut a row before it is converted. A
   * PRAGMA cannot be a subquery; its table functions answer small fixed tables, so it runs as is.
   * Any other SELECT that cannot be wrapped (a trailing `;` after a comment) is refused.
   */
  private async sizedStatement(
    connection: DuckDBConnection,
    sql: string,
  ): Promise<DuckDBPreparedStatement | undefined> {
    if (/^\s*pragma\s/i.test(sql)) return undefined;
    const body = sql.replace(/[\s;]+$/, "");
    const text = `SELECT *, strlen(CAST(to_json(${ROW}) AS VARCHAR)) AS ${ROW}_bytes FROM (\n${body}\n) AS ${ROW}`;
    try {
      const extracted = await connection.extractStatements(text);
      if (extracted.count === 1) {
        const statement = await extracted.prepare(0);
        if (statement.statementType === StatementType.SELECT) return statement;
        statement.destroySync();
      }
    } catch (error) {
      const why = firstLine(error instanceof Error ? error.message : String(error)).replaceAll(
        this.lakeDir,
        "<lake>",
      );
      throw new PlatformError(
        ErrorCodes.LAKE_QUERY_INVALID,
        `this SELECT cannot be read as a subquery (${why}); end it without a ';' after a comment`,
        { cause: error },
      );
    }
    throw new PlatformError(ErrorCodes.LAKE_QUERY_INVALID, "this SELECT cannot be read as a subquery");
  }

  private timeTravel(
    request: LakeQuery,
    tables: ReadonlyMap<string, DeltaTable>,
  ): (table: string) => TimeTravel | undefined {
    const versions = request.versions ?? {};
    if (typeof versions !== "object" || versions === null || Array.isArray(versions)) {
      throw new PlatformError(ErrorCodes.BAD_REQUEST, "versions must be an object of table name -> version");
    }
    for (const [name, version] of Object.entries(versions)) {
      if (!tables.has(name))
        throw new PlatformError(ErrorCodes.LAKE_TABLE_UNKNOWN, `no lake table is named ${clip(name)}`);
      if (!Number.isSafeInteger(version) || version < 0) {
        throw new PlatformError(
          ErrorCodes.BAD_REQUEST,
          `versions.${clip(name)} must be a non-negative integer`,
        );
      }
    }
    let asOf: number | undefined;
    if (request.asOf !== undefined) {
      asOf = typeof request.asOf === "number" ? request.asOf : Date.parse(String(request.asOf));
      if (!Number.isFinite(asOf)) {
        throw new PlatformError(
          ErrorCodes.BAD_REQUEST,
          "asOf must be epoch milliseconds or an ISO 8601 time",
        );
      }
    }
    return (table) => {
      const version = versions[table];
      if (version !== undefined) return { version };
      return asOf === undefined ? undefined : { timestamp: asOf };
    };
  }

  private bounded(name: string, value: number | undefined, fallback: number, max: number): number {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new PlatformError(ErrorCodes.BAD_REQUEST, `${name} must be an integer from 1 to ${max}`);
    }
    return value;
  }

  /** DuckDB's message is the analyst's answer (a typo, a missing column), without the lake's paths */
  private clientError(error: unknown): PlatformError {
    if (isPlatformError(error)) return error;
    const message = (error instanceof Error ? error.message : String(error)).replaceAll(
      this.lakeDir,
      "<lake>",
    );
    if (/Permission Error/.test(message)) {
      return new PlatformError(ErrorCodes.LAKE_QUERY_NOT_READ_ONLY, firstLine(message), { cause: error });
    }
    return new PlatformError(ErrorCodes.LAKE_QUERY_INVALID, firstLine(message), { cause: error });
  }
}

/**
 * The engine's own configuration, secrets and files are not the lake's data: any viewer could
 * read the lake's path on disk (`current_setting('allowed_directories')`, `duckdb_settings()`),
 * the secrets' directory (`duckdb_secrets()`), attached databases' paths or the environment.
 * Named in the text at all (quoted, in a subquery, as a table function) the query is refused;
 * `current_setting` answers for the settings a query may depend on (the time zone) only.
 */
const ENGINE_INTERNALS = [
  "duckdb_settings",
  "duckdb_secrets",
  "which_secret",
  "duckdb_extensions",
  "duckdb_databases",
  "duckdb_temporary_files",
  "duckdb_memory",
  "duckdb_log",
  "database_list",
  "database_size",
  "getenv",
  "query_table",
];
const READABLE_SETTINGS = new Set(["timezone", "calendar"]);

function engineInternalAskedFor(sql: string): string | undefined {
  const text = sql.toLowerCase();
  const named = ENGINE_INTERNALS.find((name) => text.includes(name));
  if (named !== undefined) return named;
  // query('...'): SQL inside a string, which the checks above would not see
  if (/\bquery\s*\(/.test(text)) return "query()";
  for (const call of text.matchAll(/current_setting\s*\(\s*('([^']*)'\s*\))?/g))
    if (call[2] === undefined || !READABLE_SETTINGS.has(call[2].trim())) return "current_setting";
  return undefined;
}

/**
 * A lake query's time limit, from its start to its last row. Once a connection exists the limit
 * interrupts it, and keeps interrupting: an interrupt that arrives before DuckDB starts executing
 * (its task still queued behind other queries' on the thread pool) is cleared when execution
 * starts, and the query then ran unbounded. Work outside DuckDB (a table's snapshot) is checked
 * between steps.
 */
class QueryDeadline {
  passed = false;
  private connection: DuckDBConnection | undefined;
  private reinterrupt: ReturnType<typeof setInterval> | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(private readonly timeoutMs: number) {
    this.timer = setTimeout(() => {
      this.passed = true;
      this.interruptLoop();
    }, timeoutMs);
  }

  watch(connection: DuckDBConnection): void {
    this.connection = connection;
    if (this.passed) this.interruptLoop();
  }

  /** throws when the time is up, between steps DuckDB does not run */
  check(): void {
    if (this.passed) throw this.timeoutError(undefined);
  }

  timeoutError(cause: unknown): PlatformError {
    return new PlatformError(
      ErrorCodes.LAKE_QUERY_TIMEOUT,
      `the query ran longer than ${this.timeoutMs} ms`,
      {
        cause,
      },
    );
  }

  clear(): void {
    clearTimeout(this.timer);
    clearInterval(this.reinterrupt);
  }

  private interruptLoop(): void {
    const connection = this.connection;
    if (connection === undefined || this.reinterrupt !== undefined) return;
    connection.interrupt();
    this.reinterrupt = setInterval(() => connection.interrupt(), REINTERRUPT_MS);
  }
}

/**
 * How many relations the planner will see for `sql`, from DuckDB's own parse of it
 * (`json_serialize_sql`, no planning): a table, table function, subquery or VALUES list counts
 * one; a name that is a CTE of the statement or one of the lake's views counts what its
 * definition reads, wherever it is used (the planner inlines them), and its definition once more.
 * A statement DuckDB cannot parse counts 0: running it answers the parser's own error.
 */
async function plannedRelations(
  connection: DuckDBConnection,
  sql: string,
  views: readonly LakeView[],
): Promise<number> {
  const parsedOf = async (text: string): Promise<unknown> => {
    const reader = await connection.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR)", [text]);
    const parsed = JSON.parse(String(reader.getRows()[0]?.[0] ?? "{}")) as { error?: boolean };
    return parsed.error === false ? parsed : undefined;
  };
  const parsed = await parsedOf(sql);
  if (parsed === undefined) return 0;
  const definitions = new Map<string, unknown>();
  for (const view of views) definitions.set(view.name.toLowerCase(), await parsedOf(view.sql));
  for (const node of objectsOf(parsed)) {
    const ctes = (node as { cte_map?: { map?: { key?: unknown; value?: unknown }[] } }).cte_map?.map ?? [];
    for (const cte of ctes)
      if (typeof cte.key === "string") definitions.set(cte.key.toLowerCase(), cte.value);
  }
  const weights = new Map<string, number>();
  const weigh = (tree: unknown, expanding: ReadonlySet<string>): number => {
    let relations = 0;
    for (const node of objectsOf(tree)) {
      const ref = node as { type?: unknown; table_name?: unknown };
      if (ref.type === "TABLE_FUNCTION" || ref.type === "SUBQUERY" || ref.type === "EXPRESSION_LIST")
        relations++;
      if (ref.type !== "BASE_TABLE" || typeof ref.table_name !== "string") continue;
      const name = ref.table_name.toLowerCase();
      const definition = definitions.get(name);
      if (definition === undefined || expanding.has(name)) {
        relations++;
        continue;
      }
      let weight = weights.get(name);
      if (weight === undefined) {
        weight = Math.max(1, weigh(definition, new Set([...expanding, name])));
        weights.set(name, weight);
      }
      relations += weight;
      if (relations > MAX_RELATIONS) return relations; // enough to refuse; the rest need not be counted
    }
    return relations;
  };
  return weigh(parsed, new Set());
}

/** every object in a parsed statement, walked with a stack (the tree can be deep) */
function* objectsOf(tree: unknown): Generator<object> {
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== "object") continue;
    if (!Array.isArray(value)) yield value;
    for (const child of Object.values(value))
      if (child !== null && typeof child === "object") stack.push(child);
  }
}

function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function mentions(sql: string, name: string): boolean {
  return sql.toLowerCase().includes(name.toLowerCase());
}

function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
