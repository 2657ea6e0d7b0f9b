import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { quoteIdent } from "../../lake/delta/schema.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import { sqlString } from "../../lake/query/snapshot-view.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { RegisteredView } from "../registry/registry-records.ts";
import { viewSourceSelect } from "./view-source.ts";

/**
 * Point-in-time correct retrieval (Feast's get_historical_features) with DuckDB's ASOF JOIN.
 *
 * For each row of the entity frame (entity keys, an event timestamp, any labels) and each view,
 * the join takes the view's row of the same entity with the greatest availability time at or
 * before the frame's timestamp (ASOF: `frame.ts >= view.ts`), so no value from the future is
 * ever joined. A row whose value is older than the view's TTL at the frame's timestamp joins as
 * NULL (Feast: `event_timestamp >= entity_ts - ttl`). Two rows of one entity stamped alike go to
 * the later created time, as Feast breaks ties: the ASOF inequality compares (time, created)
 * pairs, `(frame ts, +inf) >= (row ts, row created)`, so the greatest pair at or before the frame's
 * time wins in the join itself. (Resolving ties first with a GROUP BY cost as much as the join.)
 *
 * Each view reads the snapshot of its source table given by the caller (a Delta version: the
 * training set's lineage names it), as parquet files through `snapshotSelect`.
 */
export type EntityFrame =
  | { readonly parquet: string }
  | { readonly rows: readonly Readonly<Record<string, unknown>>[] };

export interface ViewInput {
  readonly view: RegisteredView;
  /** the source table's snapshot to read (undefined: the table has not been written; all NULL) */
  readonly snapshot: DeltaSnapshot | undefined;
}

export interface RetrievalRequest {
  readonly views: readonly ViewInput[];
  readonly entities: EntityFrame;
  /** the frame's timestamp column; default `event_timestamp` */
  readonly timestampColumn?: string;
  /** name features `<view>__<feature>` (Feast's full_feature_names); default plain names */
  readonly fullFeatureNames?: boolean;
  /** a frame timestamp past now + this is refused as a unit mistake (default 1 day) */
  readonly maxFutureMs?: number;
  readonly onProgress?: (fraction: number) => void;
  readonly now?: number;
}

/** rows: one object per frame row, in memory; parquet: a file written by DuckDB, nothing through JS */
export type RetrievalOutput = { readonly kind: "rows" } | { readonly kind: "parquet"; readonly path: string };

export interface RetrievalLineage {
  readonly views: readonly { name: string; version: number; table: string; tableVersion: number | null }[];
}

export interface RetrievalResult {
  readonly rowCount: number;
  readonly columns: readonly { name: string; type: string }[];
  /** the rows (output kind "rows"), in the frame's order */
  readonly rows?: readonly Record<string, unknown>[];
  readonly lineage: RetrievalLineage;
  readonly elapsedMs: number;
}

const DAY_MS = 86_400_000;
const MAX_BIGINT = "9223372036854775807";

export async function retrieveTrainingSet(
  request: RetrievalRequest,
  output: RetrievalOutput = { kind: "rows" },
): Promise<RetrievalResult> {
  const started = performance.now();
  if (request.views.length === 0)
    throw new PlatformError(ErrorCodes.BAD_REQUEST, "a training set needs at least one feature view");
  const names = outputNames(request);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const tsColumn = request.timestampColumn ?? "event_timestamp";
    const entityColumns = [...new Set(request.views.map((v) => v.view.definition.entity))];
    const frameColumns = await loadFrame(connection, request.entities, tsColumn, entityColumns);
    await checkFrame(connection, tsColumn, (request.now ?? Date.now()) + (request.maxFutureMs ?? DAY_MS));
    for (const [i, { view, snapshot }] of request.views.entries())
      await connection.run(`CREATE TEMP VIEW __view_${i} AS ${viewSourceSelect(view.definition, snapshot)}`);
    // the frame is numbered: every later step may run out of order, the final ORDER BY restores it
    await connection.run("SET preserve_insertion_order = false");
    const select = joinSelect(request, names, frameColumns);
    const progress = watchProgress(connection, request.onProgress);
    try {
      // the ORDER BY is outermost: with insertion order off, only it orders the answer
      const columns = (await describe(connection, select)).filter((c) => c.name !== "__row");
      if (output.kind === "parquet") {
        await connection.run(
          `COPY (SELECT * EXCLUDE (__row) FROM (${select}) ORDER BY __row) TO ${sqlString(output.path)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        const count = await connection.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM __frame`);
        return finish(Number(count.getRowObjectsJS()[0]?.n ?? 0), columns, undefined);
      }
      // 64-bit integers would arrive as bigint: read as doubles (exact to 2^53), no copy per row
      const wide = columns
        .filter((c) => /^(BIGINT|HUGEINT|UBIGINT)$/.test(c.type))
        .map((c) => quoteIdent(c.name));
      const replace =
        wide.length === 0 ? "" : ` REPLACE (${wide.map((c) => `CAST(${c} AS DOUBLE) AS ${c}`).join(", ")})`;
      const reader = await connection.runAndReadAll(
        `SELECT * EXCLUDE (__row)${replace} FROM (${select}) ORDER BY __row`,
      );
      const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
      return finish(rows.length, columns, rows);
    } finally {
      progress.stop();
    }
  } catch (error) {
    if (isPlatformError(error)) throw error;
    throw new PlatformError(
      ErrorCodes.LAKE_QUERY_INVALID,
      `the point-in-time join failed: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }

  function finish(
    rowCount: number,
    columns: RetrievalResult["columns"],
    rows: Record<string, unknown>[] | undefined,
  ): RetrievalResult {
    return {
      rowCount,
      columns,
      ...(rows ? { rows } : {}),
      lineage: {
        views: request.views.map(({ view, snapshot }) => ({
          name: view.name,
          version: view.version,
          table: view.definition.source.table,
          tableVersion: snapshot?.version ?? null,
        })),
      },
      elapsedMs: performance.now() - started,
    };
  }
}

/** the output name of each view's features; two features of one name are refused, not overwritten */
function outputNames(request: RetrievalRequest): string[][] {
  const taken = new Map<string, string>();
  return request.views.map(({ view }) =>
    view.definition.features.map((feature) => {
      const name = request.fullFeatureNames ? `${view.name}__${feature.name}` : feature.name;
      const other = taken.get(name);
      if (other !== undefined)
        throw new PlatformError(
          ErrorCodes.FEATURE_VIEW_INVALID,
          `feature ${feature.name} is in views ${other} and ${view.name}: ask with fullFeatureNames (--full-feature-names) or leave one view out`,
        );
      taken.set(name, view.name);
      return name;
    }),
  );
}

async function loadFrame(
  connection: DuckDBConnection,
  frame: EntityFrame,
  tsColumn: string,
  entityColumns: readonly string[],
): Promise<string[]> {
  if ("parquet" in frame) {
    await connection.run(
      `CREATE TEMP VIEW __input AS SELECT * FROM read_parquet(${sqlString(frame.parquet)})`,
    );
  } else {
    await loadRows(connection, frame.rows, tsColumn);
  }
  const described = await connection.runAndReadAll("DESCRIBE __input");
  const types = new Map(
    described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)] as const),
  );
  const missing = [tsColumn, ...entityColumns].filter((c) => !types.has(c));
  if (missing.length > 0)
    throw new PlatformError(
      ErrorCodes.FEATURE_ENTITY_UNKNOWN,
      `the entity frame has no column ${missing.join(", ")} (it has ${[...types.keys()].slice(0, 20).join(", ")})`,
    );
  for (const c of types.keys())
    if (c.startsWith("__"))
      throw new PlatformError(
        ErrorCodes.BAD_REQUEST,
        `entity frame column ${c}: names starting with __ are reserved`,
      );
  const tsType = types.get(tsColumn)!;
  const micros = /^(TIMESTAMP|DATE)/.test(tsType)
    ? `epoch_us(CAST(${quoteIdent(tsColumn)} AS TIMESTAMPTZ))`
    : /^(BIGINT|INTEGER|HUGEINT|UBIGINT|UINTEGER|DOUBLE)$/.test(tsType)
      ? `CAST(${quoteIdent(tsColumn)} AS BIGINT) * 1000`
      : undefined;
  if (!micros)
    throw new PlatformError(
      ErrorCodes.OUT_OF_RANGE,
      `the entity frame's ${tsColumn} is ${tsType}; it must be a timestamp or epoch milliseconds`,
    );
  const keys = entityColumns.map((c) => `CAST(${quoteIdent(c)} AS VARCHAR) AS ${quoteIdent(`__key_${c}`)}`);
  await connection.run(
    `CREATE TEMP TABLE __frame AS SELECT *, ${keys.join(", ")}, ${micros} AS __ets, row_number() OVER () AS __row FROM __input`,
  );
  return [...types.keys()];
}

/** frame rows in memory -> a table: timestamp as epoch ms, other columns typed by their values */
async function loadRows(
  connection: DuckDBConnection,
  rows: readonly Readonly<Record<string, unknown>>[],
  tsColumn: string,
): Promise<void> {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const kinds = new Map<string, "BIGINT" | "DOUBLE" | "BOOLEAN" | "VARCHAR">();
  for (const column of columns) {
    if (column === tsColumn) {
      kinds.set(column, "BIGINT");
      continue;
    }
    const sample = rows.find((r) => r[column] !== null && r[column] !== undefined)?.[column];
    kinds.set(
      column,
      typeof sample === "number" ? "DOUBLE" : typeof sample === "boolean" ? "BOOLEAN" : "VARCHAR",
    );
  }
  const definition = columns.map((c) => `${quoteIdent(c)} ${kinds.get(c)}`).join(", ");
  await connection.run(`CREATE TEMP TABLE __input (${definition || "__empty BOOLEAN"})`);
  const appender = await connection.createAppender("__input");
  for (const row of rows) {
    for (const column of columns) {
      const value = row[column];
      const kind = kinds.get(column)!;
      if (value === null || value === undefined) appender.appendNull();
      else if (kind === "BIGINT") {
        const ms =
          value instanceof Date
            ? value.getTime()
            : typeof value === "string"
              ? Date.parse(value)
              : Number(value);
        if (!Number.isSafeInteger(ms))
          throw new PlatformError(
            ErrorCodes.OUT_OF_RANGE,
            `entity frame ${column} ${JSON.stringify(String(value).slice(0, 40))} is not a time (epoch ms, Date or ISO 8601)`,
          );
        appender.appendBigInt(BigInt(ms));
      } else if (kind === "DOUBLE") appender.appendDouble(Number(value));
      else if (kind === "BOOLEAN") appender.appendBoolean(Boolean(value));
      else appender.appendVarchar(String(value));
    }
    appender.endRow();
  }
  appender.closeSync();
}

/** no row without a time, none before 1970, none in the future beyond the allowance */
async function checkFrame(connection: DuckDBConnection, tsColumn: string, latestMs: number): Promise<void> {
  const reader = await connection.runAndReadAll(
    `SELECT count(*) FILTER (WHERE __ets IS NULL)::BIGINT AS nulls, min(__ets)::BIGINT AS first, max(__ets)::BIGINT AS last FROM __frame`,
  );
  const stats = reader.getRowObjectsJS()[0] as { nulls: bigint; first: bigint | null; last: bigint | null };
  if (stats.nulls > 0n)
    throw new PlatformError(ErrorCodes.OUT_OF_RANGE, `${stats.nulls} entity frame rows have no ${tsColumn}`);
  if (stats.first !== null && stats.first < 0n)
    throw new PlatformError(
      ErrorCodes.OUT_OF_RANGE,
      `entity frame ${tsColumn} ${new Date(Number(stats.first / 1000n)).toISOString()} is before 1970`,
    );
  if (stats.last !== null && stats.last > BigInt(latestMs) * 1000n)
    throw new PlatformError(
      ErrorCodes.OUT_OF_RANGE,
      `entity frame ${tsColumn} ${new Date(Number(stats.last / 1000n)).toISOString()} is in the future (seconds given as milliseconds?)`,
    );
}

function joinSelect(
  request: RetrievalRequest,
  names: readonly string[][],
  frameColumns: readonly string[],
): string {
  const selected: string[] = [...frameColumns.map((c) => `f.${quoteIdent(c)}`), "f.__row"];
  const joins: string[] = [];
  for (const [i, { view }] of request.views.entries()) {
    const alias = `v${i}`;
    const ttlUs = view.definition.ttlMs * 1000;
    const key = quoteIdent(`__key_${view.definition.entity}`);
    joins.push(
      `ASOF LEFT JOIN __view_${i} ${alias} ON f.${key} = ${alias}.__entity AND {'t': f.__ets, 'c': ${MAX_BIGINT}} >= {'t': ${alias}.__ts, 'c': ${alias}.__created}`,
    );
    for (const [j, feature] of view.definition.features.entries())
      selected.push(
        `CASE WHEN ${alias}.__ts >= f.__ets - ${ttlUs} THEN ${alias}.${quoteIdent(feature.name)} END AS ${quoteIdent(names[i]![j]!)}`,
      );
  }
  return `SELECT ${selected.join(", ")} FROM __frame f ${joins.join(" ")}`;
}

async function describe(
  connection: DuckDBConnection,
  select: string,
): Promise<{ name: string; type: string }[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${select}`);
  return reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

function watchProgress(connection: DuckDBConnection, onProgress: ((fraction: number) => void) | undefined) {
  if (!onProgress) return { stop: () => {} };
  const timer = setInterval(() => {
    const { percentage } = connection.progress;
    if (percentage >= 0) onProgress(Math.min(1, percentage / 100));
  }, 250);
  return {
    stop: () => {
      clearInterval(timer);
      onProgress(1);
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0]!.slice(0, 300) : String(error);
}
