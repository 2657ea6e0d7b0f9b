import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { parseInterval } from "../../lake/timeseries/query-plan.ts";
import {
  AGGREGATIONS,
  type Aggregation,
  type TableDefinition,
  type TimeSeriesStore,
} from "../../lake/timeseries/time-series-store.ts";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { shapedColumns } from "../response-shape.ts";

/**
 * The time-series history over HTTP, mounted at /api/timeseries:
 *
 *   GET /api/timeseries                 the tables, their columns and filters
 *   GET /api/timeseries/:table?from&to&<symbol column>=<value>&interval=1m&agg=avg&limit=1000
 *
 * `from` / `to` are epoch ms or ISO 8601 (`to` exclusive); every other parameter named like a
 * SYMBOL column of the table filters by equality (`sensor_id=traffic_12`, `district=...`);
 * `interval` (30s, 1m, 1h, 1d: whole seconds that divide a day) downsamples with `agg` (avg by
 * default; min, max, sum, count, first, last), as QuestDB's SAMPLE BY. At most `limit` rows
 * (default 1,000, at most 10,000); `truncated` says there were more. Values reach the store as
 * bind parameters, names only when they are the table's own.
 */
export const DEFAULT_ROWS = 1000;
export const MAX_ROWS = 10_000;
// `fields` and `format` shape the answer (api/response-shape.ts), they filter no column
const RESERVED = new Set(["from", "to", "interval", "agg", "limit", "fields", "format"]);

const errorBody = (code: string, message: string) => ({ error: { code, message } });
const echo = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}...` : text);

function instant(name: string, raw: string | undefined): number | undefined | Error {
  if (raw === undefined) return undefined;
  if (/^-?[0-9]{1,15}$/.test(raw)) return Number(raw);
  const parsed = /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(parsed)
    ? new Error(`${name} must be epoch milliseconds or an ISO 8601 time, got '${echo(raw)}'`)
    : parsed;
}

export function timeSeriesRoutes(deps: {
  readonly store: TimeSeriesStore;
  readonly tables: readonly TableDefinition[];
}): Hono {
  const app = new Hono();
  const badRequest = (c: Context, message: string) => c.json(errorBody(ErrorCodes.BAD_REQUEST, message), 400);

  app.get("/", (c) =>
    c.json({
      store: deps.store.kind,
      tables: deps.tables.map((t) => ({
        name: t.name,
        timestamp: t.timestamp,
        columns: t.columns,
        filters: t.columns.filter((col) => col.type === "symbol").map((col) => col.name),
        ttlDays: t.ttlDays ?? null,
      })),
    }),
  );

  app.get("/:table", async (c) => {
    const table = c.req.param("table");
    const params = c.req.queries();
    const one = (name: string) => {
      const values = params[name];
      return values === undefined
        ? undefined
        : values.length === 1
          ? values[0]
          : new Error(`${name} is given twice`);
    };
    const from = instant("from", stringOr(one("from")));
    const to = instant("to", stringOr(one("to")));
    for (const value of [one("from"), one("to"), from, to])
      if (value instanceof Error) return badRequest(c, value.message);

    const limitText = one("limit");
    if (limitText instanceof Error) return badRequest(c, limitText.message);
    const limit = limitText === undefined ? DEFAULT_ROWS : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ROWS)
      return badRequest(c, `limit must be an integer from 1 to ${MAX_ROWS}`);

    const intervalText = one("interval");
    const aggText = one("agg");
    if (intervalText instanceof Error) return badRequest(c, intervalText.message);
    if (aggText instanceof Error) return badRequest(c, aggText.message);
    if (aggText !== undefined && intervalText === undefined) return badRequest(c, "agg needs an interval");
    let downsample: { intervalMs: number; aggregation: Aggregation } | undefined;
    if (intervalText !== undefined) {
      const intervalMs = parseInterval(intervalText);
      if (intervalMs === undefined)
        return badRequest(c, `interval must look like 30s, 1m, 15m, 1h or 1d, got '${echo(intervalText)}'`);
      const aggregation = (aggText ?? "avg") as Aggregation;
      if (!(AGGREGATIONS as readonly string[]).includes(aggregation))
        return badRequest(c, `agg must be one of ${AGGREGATIONS.join(", ")}, got '${echo(aggregation)}'`);
      downsample = { intervalMs, aggregation };
    }

    const equals: Record<string, string> = {};
    for (const [name, values] of Object.entries(params)) {
      if (RESERVED.has(name)) continue;
      if (values.length !== 1) return badRequest(c, `${echo(name)} is given twice`);
      equals[name] = values[0]!;
    }

    try {
      const result = await deps.store.query({
        table,
        ...(from === undefined ? {} : { from: from as number }),
        ...(to === undefined ? {} : { to: to as number }),
        equals,
        ...(downsample ? { downsample } : {}),
        limit: limit + 1,
      });
      const truncated = result.rows.length > limit;
      return shapedColumns(
        c,
        result.columns,
        truncated ? result.rows.slice(0, limit) : result.rows,
        { table, ...(downsample ? { interval: intervalText, agg: downsample.aggregation } : {}), truncated },
        { "x-truncated": String(truncated) },
      );
    } catch (error) {
      // a table the node defines but the store has not created yet: the store has not answered since start
      if (isPlatformError(error, ErrorCodes.NOT_FOUND) && deps.tables.some((t) => t.name === table))
        return c.json(
          errorBody(ErrorCodes.INFRA_UNAVAILABLE, "the time-series store is unavailable; retry shortly"),
          503,
        );
      return storeError(c, error);
    }
  });
  return app;
}

function stringOr(value: string | Error | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

const STATUS: Readonly<Record<string, ContentfulStatusCode>> = {
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.INFRA_UNAVAILABLE]: 503,
};

/** the store's refusal as the caller's error; an outage as 503; the rest as 500, logged, not echoed */
function storeError(c: Context, error: unknown): Response {
  if (isPlatformError(error) && STATUS[error.code] !== undefined) {
    const status = STATUS[error.code]!;
    const message =
      status === 503
        ? "the time-series store is unavailable; retry shortly"
        : error.message.replace(`${error.code}: `, "");
    return c.json(errorBody(error.code, message), status);
  }
  console.error(`API ${c.req.method} ${c.req.path} failed:`, error);
  return c.json(errorBody(ErrorCodes.INTERNAL, "internal error; see the node's log"), 500);
}
