import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DeltaTable, TimeTravel } from "../../lake/delta/delta-table.ts";
import type { LakeMaintenance } from "../../lake/maintenance/lake-maintenance.ts";
import type { LakeQueryEngine } from "../../lake/query/lake-query-engine.ts";
import type { LakeView } from "../../lake/tables/gold.ts";
import type { LakeTable } from "../../lake/tables/lake-table.ts";
import { type ErrorCode, ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { pageRequestOf } from "../pagination.ts";
import { fieldsOf, shapedItems } from "../response-shape.ts";

/**
 * The lake over HTTP, mounted at /api/lake:
 *
 *   GET  /api/lake/tables                       every table (layer, source topics, version, size) and view
 *   GET  /api/lake/tables/:name[?version=|asOf=] schema, version, partitions, files (paged) of a snapshot
 *   GET  /api/lake/tables/:name/history[?limit=] the commits, newest first
 *   POST /api/lake/query                         {"sql","versions"?,"asOf"?,"limit"?,"timeoutMs"?}
 *   POST /api/lake/tables/:name/optimize         compact small files now
 *   POST /api/lake/tables/:name/vacuum           delete unreferenced files past the retention now
 *
 * A query is a read: one SELECT, run by DuckDB confined to the lake (`lake/query/`). Errors are
 * `{"error":{"code","message"}}` with the lake's codes; what failed inside goes to the log.
 */
export interface LakeRoutesDeps {
  readonly catalogue: readonly LakeTable[];
  readonly views: readonly LakeView[];
  readonly tables: ReadonlyMap<string, DeltaTable>;
  readonly engine: LakeQueryEngine;
  readonly maintenance: LakeMaintenance;
  readonly onInternalError?: (error: unknown) => void;
}

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  LAKE_QUERY_INVALID: 400,
  LAKE_QUERY_NOT_READ_ONLY: 403,
  LAKE_TABLE_UNKNOWN: 404,
  DELTA_VERSION_NOT_FOUND: 404,
  DELTA_FILE_MISSING: 410,
  LAKE_MAINTENANCE_RUNNING: 409,
  DELTA_COMMIT_CONFLICT: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LAKE_QUERY_BUSY: 503,
  LAKE_QUERY_TIMEOUT: 504,
};
const MAX_HISTORY = 1000;
const errorBody = (code: string, message: string) => ({ error: { code, message } });

export function lakeRoutes(deps: LakeRoutesDeps): Hono {
  const app = new Hono();
  const fail = (c: Context, error: unknown) => {
    const status = isPlatformError(error) ? STATUS[error.code] : undefined;
    if (isPlatformError(error) && status) {
      if (status === 503) c.header("Retry-After", "1");
      return c.json(errorBody(error.code, error.message.replace(`${error.code}: `, "")), status);
    }
    deps.onInternalError?.(error);
    return c.json(errorBody(ErrorCodes.INTERNAL, "internal error; see the node's log"), 500);
  };
  const badRequest = (c: Context, message: string) => c.json(errorBody(ErrorCodes.BAD_REQUEST, message), 400);
  const tableOf = (c: Context) => {
    const name = c.req.param("name") ?? "";
    const table = deps.tables.get(name);
    const entry = deps.catalogue.find((t) => t.name === name);
    return table && entry ? { name, table, entry } : undefined;
  };
  const unknown = (c: Context) =>
    c.json(
      errorBody(ErrorCodes.LAKE_TABLE_UNKNOWN, `no lake table is named ${clip(c.req.param("name") ?? "")}`),
      404,
    );

  app.get("/tables", async (c) => {
    try {
      const tables = [];
      for (const entry of deps.catalogue) {
        const table = deps.tables.get(entry.name);
        if (!table) continue;
        const snapshot = await table.snapshot();
        tables.push({
          name: entry.name,
          layer: entry.layer,
          description: entry.description,
          topics: entry.topics,
          partitionColumns: snapshot.partitionColumns,
          version: snapshot.version,
          files: snapshot.files.length,
          rows: snapshot.files.reduce((sum, f) => sum + (f.numRecords ?? 0), 0),
          bytes: snapshot.files.reduce((sum, f) => sum + f.size, 0),
        });
      }
      return c.json({
        tables,
        views: deps.views.map((v) => ({ name: v.name, description: v.description, uses: v.uses })),
      });
    } catch (error) {
      return fail(c, error);
    }
  });

  app.get("/tables/:name", async (c) => {
    const found = tableOf(c);
    if (!found) return unknown(c);
    const at = timeTravelOf(c.req.query("version"), c.req.query("asOf"));
    if (at instanceof Error) return badRequest(c, at.message);
    const page = pageRequestOf((name) => c.req.query(name), 100);
    if (page instanceof Error) return badRequest(c, page.message);
    try {
      const snapshot = await found.table.snapshot(at);
      const partitions = new Map<
        string,
        { values: Record<string, string | null>; files: number; rows: number; bytes: number }
      >();
      for (const file of snapshot.files) {
        const key = JSON.stringify(snapshot.partitionColumns.map((col) => file.partitionValues[col] ?? null));
        const part = partitions.get(key) ?? {
          values: { ...file.partitionValues },
          files: 0,
          rows: 0,
          bytes: 0,
        };
        part.files++;
        part.rows += file.numRecords ?? 0;
        part.bytes += file.size;
        partitions.set(key, part);
      }
      const files = [...snapshot.files].sort((a, b) => a.relativePath.localeCompare(b.relativePath));
      const next = page.offset + page.limit;
      return c.json({
        name: found.name,
        layer: found.entry.layer,
        description: found.entry.description,
        topics: found.entry.topics,
        version: snapshot.version,
        timestamp: new Date(snapshot.timestamp).toISOString(),
        schema: snapshot.schema.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable })),
        partitionColumns: snapshot.partitionColumns,
        partitions: [...partitions.values()].sort((a, b) =>
          JSON.stringify(a.values).localeCompare(JSON.stringify(b.values)),
        ),
        files: files.slice(page.offset, next).map((f) => ({
          path: f.relativePath,
          partitionValues: f.partitionValues,
          size: f.size,
          rows: f.numRecords ?? null,
          modified: new Date(f.modificationTime).toISOString(),
        })),
        page: {
          limit: page.limit,
          offset: page.offset,
          total: files.length,
          next_offset: next < files.length ? next : null,
        },
      });
    } catch (error) {
      return fail(c, error);
    }
  });

  app.get("/tables/:name/history", async (c) => {
    const found = tableOf(c);
    if (!found) return unknown(c);
    const limitText = c.req.query("limit");
    const limit =
      limitText === undefined ? 100 : /^[0-9]{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_HISTORY))
      return badRequest(c, `limit must be a whole number from 1 to ${MAX_HISTORY}`);
    try {
      const history = await found.table.history(limit);
      return c.json({
        name: found.name,
        history: history.map((h) => ({ ...h, timestamp: new Date(h.timestamp).toISOString() })),
      });
    } catch (error) {
      return fail(c, error);
    }
  });

  app.post("/query", async (c) => {
    if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
      return c.json(errorBody(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, "send the query as application/json"), 415);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (error) {
      if (!(error instanceof SyntaxError)) return fail(c, error);
      return c.json(errorBody(ErrorCodes.MALFORMED_JSON, "the body is not JSON"), 400);
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return badRequest(
        c,
        'the body must be {"sql": "...", "versions"?: {...}, "asOf"?: ..., "limit"?: n, "timeoutMs"?: n}',
      );
    }
    const { sql, versions, asOf, limit, timeoutMs, ...rest } = body as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) return badRequest(c, `unknown field ${clip(extra)}`);
    if (typeof sql !== "string") return badRequest(c, "sql must be a string");
    if (
      versions !== undefined &&
      (versions === null || typeof versions !== "object" || Array.isArray(versions))
    )
      return badRequest(c, "versions must be an object of table name -> version");
    if (asOf !== undefined && typeof asOf !== "number" && typeof asOf !== "string")
      return badRequest(c, "asOf must be epoch milliseconds or an ISO 8601 time");
    for (const [name, value] of [
      ["limit", limit],
      ["timeoutMs", timeoutMs],
    ] as const)
      if (value !== undefined && typeof value !== "number") return badRequest(c, `${name} must be a number`);
    try {
      const result = await deps.engine.query({
        sql,
        ...(versions === undefined ? {} : { versions: versions as Record<string, number> }),
        ...(asOf === undefined ? {} : { asOf: asOf as number | string }),
        ...(limit === undefined ? {} : { limit: limit as number }),
        ...(timeoutMs === undefined ? {} : { timeoutMs: timeoutMs as number }),
      });
      const fields = fieldsOf(c.req.query("fields"));
      const { rows, columns, ...meta } = result;
      // the column list follows `fields=` as the rows do
      const kept = Array.isArray(fields) ? columns.filter((col) => fields.includes(col.name)) : columns;
      return shapedItems(
        c,
        "rows",
        rows,
        { columns: kept, ...meta },
        { "x-truncated": String(result.truncated) },
      );
    } catch (error) {
      return fail(c, error);
    }
  });

  for (const task of ["optimize", "vacuum"] as const) {
    app.post(`/tables/:name/${task}`, async (c) => {
      const found = tableOf(c);
      if (!found) return unknown(c);
      try {
        const event = await deps.maintenance.run(found.name, task);
        return c.json({
          table: found.name,
          task,
          durationMs: Math.round(event.durationMs),
          result: event.result,
        });
      } catch (error) {
        return fail(c, error);
      }
    });
  }

  return app;
}

function timeTravelOf(version: string | undefined, asOf: string | undefined): TimeTravel | undefined | Error {
  if (version !== undefined && asOf !== undefined) return new Error("give version or asOf, not both");
  if (version !== undefined) {
    return /^(0|[1-9][0-9]{0,14})$/.test(version)
      ? { version: Number(version) }
      : new Error(`version must be a whole number, got '${clip(version)}'`);
  }
  if (asOf !== undefined) {
    const ms = /^[0-9]{1,15}$/.test(asOf)
      ? Number(asOf)
      : /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(asOf)
        ? Date.parse(asOf)
        : Number.NaN;
    return Number.isFinite(ms)
      ? { timestamp: ms }
      : new Error(`asOf must be epoch milliseconds or an ISO 8601 time, got '${clip(asOf)}'`);
  }
  return undefined;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
