import { type RouteConfig, z } from "@hono/zod-openapi";
import {
  ErrorBody,
  errorResponses,
  jsonResponse,
  PageShape,
  pageQuery,
  pathParams,
  shapedResponse,
  shapeQuery,
} from "../openapi.ts";

/** api/lake/routes.ts, mounted at /api/v1/lake */
const timeTravel = {
  version: z.string().optional().openapi({ description: "the table at this version" }),
  asOf: z.string().optional().openapi({ description: "the table as of this time (epoch ms or ISO 8601)" }),
};

const TableSummary = z
  .object({
    name: z.string(),
    layer: z.enum(["bronze", "silver", "gold"]),
    description: z.string(),
    topics: z.array(z.string()),
    version: z.number().int(),
    rows: z.number().int(),
  })
  .catchall(z.unknown())
  .openapi("LakeTableSummary");

const Snapshot = z
  .object({
    name: z.string(),
    version: z.number().int(),
    schema: z.array(z.object({ name: z.string(), type: z.unknown(), nullable: z.boolean() })),
    partitions: z.array(
      z.object({ values: z.record(z.string(), z.string().nullable()) }).catchall(z.unknown()),
    ),
    files: z.array(z.record(z.string(), z.unknown())),
    page: PageShape,
  })
  .catchall(z.unknown())
  .openapi("LakeSnapshot");

const Commit = z
  .object({ version: z.number().int(), timestamp: z.number(), operation: z.string().nullable() })
  .catchall(z.unknown())
  .openapi("LakeCommit");

export const LakeQuery = z
  .strictObject({
    sql: z.string().max(100_000).openapi({ description: "one SELECT over the lake's tables and views" }),
    versions: z.record(z.string(), z.number().int()).optional().openapi({ description: "table -> version" }),
    asOf: z.union([z.number(), z.string()]).optional(),
    limit: z.number().int().optional(),
    timeoutMs: z.number().int().optional(),
  })
  .openapi("LakeQuery");

const QueryResult = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    rows: z.array(z.record(z.string(), z.unknown())),
    truncated: z.boolean(),
    versions: z.record(z.string(), z.number().int()),
    elapsedMs: z.number(),
  })
  .openapi("LakeQueryResult");

const Maintenance = z
  .object({
    table: z.string(),
    task: z.enum(["optimize", "vacuum"]),
    durationMs: z.number(),
    result: z.unknown(),
  })
  .openapi("LakeMaintenanceResult");

const notFound = { 404: jsonResponse(ErrorBody, "no such table or version") };

export const LAKE_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/tables",
    summary: "Every table of the lake (layer, source topics, version, size) and its views",
    responses: {
      200: jsonResponse(
        z.object({ tables: z.array(TableSummary), views: z.array(z.record(z.string(), z.unknown())) }),
        "the catalogue",
      ),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/tables/{name}",
    summary:
      "A table's snapshot: schema, version, partitions, a page of files (time travel by version or asOf)",
    request: { params: pathParams("name"), query: z.object({ ...timeTravel, ...pageQuery }) },
    responses: { 200: jsonResponse(Snapshot, "the snapshot"), ...notFound, ...errorResponses },
  },
  {
    method: "get",
    path: "/tables/{name}/history",
    summary: "A table's commits, newest first",
    request: { params: pathParams("name"), query: z.object({ limit: pageQuery.limit }) },
    responses: {
      200: jsonResponse(z.object({ history: z.array(Commit) }), "the commits"),
      ...notFound,
      ...errorResponses,
    },
  },
  {
    method: "post",
    path: "/query",
    summary: "SQL over the lake: one SELECT, run by DuckDB confined to the lake's tables",
    request: {
      query: z.object(shapeQuery),
      body: { content: { "application/json": { schema: LakeQuery } }, required: true },
    },
    responses: {
      200: shapedResponse(QueryResult, "the rows (fields= keeps those columns; x-truncated in CSV)"),
      408: jsonResponse(ErrorBody, "the query ran past its timeout"),
      415: jsonResponse(ErrorBody, "the body is not application/json"),
      ...errorResponses,
    },
  },
  {
    method: "post",
    path: "/tables/{name}/optimize",
    summary: "Compact the table's small files now (operator; changes no data)",
    request: { params: pathParams("name") },
    responses: { 200: jsonResponse(Maintenance, "what it did"), ...notFound, ...errorResponses },
  },
  {
    method: "post",
    path: "/tables/{name}/vacuum",
    summary:
      "Delete files no version needs past the retention now (admin; ends time travel to older versions)",
    request: { params: pathParams("name") },
    responses: { 200: jsonResponse(Maintenance, "what it did"), ...notFound, ...errorResponses },
  },
];
