import { type RouteConfig, z } from "@hono/zod-openapi";
import { DASHBOARD_VIEWS } from "../dashboard/dashboard-pages.ts";
import { errorResponses, jsonResponse } from "../openapi.ts";

/**
 * api/dashboard/dashboard-routes.ts: the pages and their files at /dashboard (each file is a
 * route of its own name, listed here as one templated path), and the summary they poll at
 * /api/v1/dashboard.
 */
const file = (description: string) => z.object({ file: z.string().openapi({ description }) });
const text = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: z.string() } },
});
const notFound = {
  404: jsonResponse(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), "no such file"),
};

export const DASHBOARD_PAGE_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/",
    summary: "The dashboard: a redirect to its operational page",
    responses: { 302: { description: "to /dashboard/operational" } },
  },
  ...DASHBOARD_VIEWS.map(
    (view): RouteConfig => ({
      method: "get",
      path: `/${view}`,
      summary: `The ${view} page`,
      responses: { 200: text("text/html", "the page") },
    }),
  ),
  {
    method: "get",
    path: "/assets/{file}",
    summary: "A script or stylesheet of the pages (each by its own name, read once at start)",
    request: { params: file("e.g. live-data.js, dashboard.css") },
    responses: {
      200: {
        description: "the file",
        content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } },
      },
      ...notFound,
    },
  },
  {
    method: "get",
    path: "/vendor/{file}",
    summary: "A vendored file of the pages (uPlot)",
    request: { params: file("uplot.js or uplot.css") },
    responses: {
      200: {
        description: "the file",
        content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } },
      },
      ...notFound,
    },
  },
];

export const DASHBOARD_DATA_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/summary",
    summary: "What the pages draw, computed on request from the node's metrics, live view and health",
    responses: {
      200: jsonResponse(z.record(z.string(), z.unknown()).openapi("DashboardSummary"), "the summary"),
      ...errorResponses,
    },
  },
];
