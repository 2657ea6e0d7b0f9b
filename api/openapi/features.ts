import { type RouteConfig, z } from "@hono/zod-openapi";
import { FeatureViewDefinition } from "../../features/views/feature-view.ts";
import { ErrorBody, errorResponses, jsonResponse, pathParams } from "../openapi.ts";

/** api/features/routes.ts, mounted at /api/v1/features */
const View = z.record(z.string(), z.unknown()).openapi("FeatureViewVersion", {
  description: "a registered version: definition, version, lineage (table, Delta version), fingerprint",
});
const Statistics = z.record(z.string(), z.unknown()).openapi("FeatureViewStatistics");
const Materialized = z.record(z.string(), z.unknown()).openapi("MaterializeResult");
const noView = { 404: jsonResponse(ErrorBody, "no such view or version") };
const version = z.object({ version: z.string().optional().openapi({ description: "default: the latest" }) });

export const FEATURE_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/",
    summary: "Feature views and on-demand views (search by text, owner, entity, tag), with freshness",
    request: {
      query: z.object({
        q: z.string().optional(),
        owner: z.string().optional(),
        entity: z.string().optional(),
        tag: z.string().optional().openapi({ description: "key=value" }),
      }),
    },
    responses: {
      200: jsonResponse(
        z.object({ onlineStore: z.string(), views: z.array(z.record(z.string(), z.unknown())) }),
        "the views",
      ),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/online",
    summary: "The latest feature values of entities, as a model is served them",
    request: {
      query: z
        .object({
          view: z.string(),
          entities: z
            .string()
            .optional()
            .openapi({ description: "comma-separated keys (or ?<join key>=k repeated)" }),
          features: z.string().optional(),
          version: z.string().optional(),
        })
        .catchall(z.string())
        .openapi({ description: "`<join key>=<key>` and `request.<field>=` for on-demand views" }),
    },
    responses: {
      200: jsonResponse(
        z.object({
          view: z.string(),
          version: z.number().int(),
          entity: z.string().openapi({ description: "the view's join key" }),
          features: z.array(z.string()),
          results: z.array(
            z.object({
              entity: z.string(),
              status: z.enum(["PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"]),
              eventTime: z.number().nullable(),
              values: z.record(z.string(), z.unknown()),
            }),
          ),
        }),
        "one result per entity, in the asked order",
      ),
      ...noView,
      503: jsonResponse(ErrorBody, "the online store does not answer"),
      ...errorResponses,
    },
  },
  {
    method: "post",
    path: "/views",
    summary: "Register a feature view definition: a new version, or the same one again (operator)",
    request: { body: { content: { "application/json": { schema: FeatureViewDefinition } }, required: true } },
    responses: {
      200: jsonResponse(View, "the definition was registered before: its version"),
      201: jsonResponse(View, "a new version"),
      409: jsonResponse(ErrorBody, "the registry refuses the definition"),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/{name}",
    summary: "A view with every version, its lineage and statistics",
    request: { params: pathParams("name") },
    responses: {
      200: jsonResponse(z.record(z.string(), z.unknown()), "the view"),
      ...noView,
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/{name}/versions/{version}",
    summary: "One version's definition",
    request: { params: pathParams("name", "version") },
    responses: { 200: jsonResponse(View, "the version"), ...noView, ...errorResponses },
  },
  {
    method: "get",
    path: "/{name}/statistics",
    summary: "A version's stored statistics (the drift reference)",
    request: { params: pathParams("name"), query: version },
    responses: { 200: jsonResponse(Statistics, "the statistics"), ...noView, ...errorResponses },
  },
  {
    method: "post",
    path: "/{name}/statistics",
    summary: "Compute and store a version's statistics from the offline store (operator)",
    request: { params: pathParams("name"), query: version },
    responses: { 201: jsonResponse(Statistics, "the statistics"), ...noView, ...errorResponses },
  },
  {
    method: "post",
    path: "/{name}/materialize",
    summary:
      "Write a time range of the view, or what is new since the last run, to the online store (operator)",
    request: {
      params: pathParams("name"),
      body: {
        content: {
          "application/json": {
            schema: z.union([
              z.object({ from: z.union([z.number(), z.string()]), to: z.union([z.number(), z.string()]) }),
              z.object({ incremental: z.literal(true) }),
            ]),
          },
        },
        required: true,
      },
    },
    responses: { 200: jsonResponse(Materialized, "what was written"), ...noView, ...errorResponses },
  },
];
