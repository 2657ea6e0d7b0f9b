import { type RouteConfig, z } from "@hono/zod-openapi";
import { jsonResponse } from "../openapi.ts";

/** the node's own routes outside /api (api/app.ts): probes, metrics and this description */
const Health = z
  .object({
    status: z.enum(["ready", "unhealthy"]),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean() }).catchall(z.unknown())),
    node: z.record(z.string(), z.unknown()),
  })
  .openapi("Health");

export const NODE_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/health",
    summary: "Readiness: each check with its reason (public)",
    security: [],
    responses: {
      200: jsonResponse(Health, "ready"),
      503: jsonResponse(Health, "a check fails, or the node is starting"),
    },
  },
  {
    method: "get",
    path: "/metrics",
    summary:
      "Prometheus metrics in the text exposition format (viewer; Prometheus scrapes with a bearer credential)",
    responses: { 200: { description: "the metrics", content: { "text/plain": { schema: z.string() } } } },
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document (public)",
    security: [],
    responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "the OpenAPI 3.1 document") },
  },
  {
    method: "get",
    path: "/docs",
    summary: "Swagger UI over this document (public)",
    security: [],
    responses: { 200: { description: "the page", content: { "text/html": { schema: z.string() } } } },
  },
];
