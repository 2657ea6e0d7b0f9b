import { type RouteConfig, z } from "@hono/zod-openapi";
import { AGGREGATIONS } from "../../lake/timeseries/time-series-store.ts";
import {
  ErrorBody,
  errorResponses,
  jsonResponse,
  pathParams,
  shapedResponse,
  shapeQuery,
} from "../openapi.ts";

/** api/timeseries/routes.ts, mounted at /api/v1/timeseries */
const Table = z
  .object({
    name: z.string(),
    timestamp: z.string(),
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    filters: z
      .array(z.string())
      .openapi({ description: "SYMBOL columns: `?<column>=<value>` filters by equality" }),
    ttlDays: z.number().nullable(),
  })
  .openapi("TimeSeriesTable");

const Series = z
  .object({
    table: z.string(),
    interval: z.string().optional(),
    agg: z.enum(AGGREGATIONS).optional(),
    columns: z.array(z.string()),
    rows: z.array(z.array(z.union([z.number(), z.string(), z.boolean(), z.null()]))),
    truncated: z.boolean(),
  })
  .openapi("TimeSeries");

export const TIMESERIES_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/",
    summary: "The time-series tables, their columns and filters",
    responses: {
      200: jsonResponse(z.object({ store: z.string(), tables: z.array(Table) }), "the tables"),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/{table}",
    summary: "A table's rows in a time range, filtered by SYMBOL columns, optionally downsampled (SAMPLE BY)",
    request: {
      params: pathParams("table"),
      query: z
        .object({
          from: z.string().optional().openapi({ description: "epoch ms or ISO 8601, inclusive" }),
          to: z.string().optional().openapi({ description: "epoch ms or ISO 8601, exclusive" }),
          interval: z.string().optional().openapi({ description: "bucket: 30s, 1m, 1h, 1d (divides a day)" }),
          agg: z.enum(AGGREGATIONS).optional(),
          limit: z.string().optional().openapi({ description: "rows, 1..10000 (default 1000)" }),
          ...shapeQuery,
        })
        .catchall(z.string())
        .openapi({ description: "any other parameter named like a SYMBOL column filters by equality" }),
    },
    responses: {
      200: shapedResponse(Series, "rows in timestamp order (x-truncated in CSV)"),
      404: jsonResponse(ErrorBody, "no such table"),
      503: jsonResponse(ErrorBody, "the store does not answer"),
      ...errorResponses,
    },
  },
];
