import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import { ALERT_ROUTES } from "./alerts.ts";
import { DASHBOARD_DATA_ROUTES, DASHBOARD_PAGE_ROUTES } from "./dashboard.ts";
import { FEATURE_ROUTES } from "./features.ts";
import { LAKE_ROUTES } from "./lake.ts";
import { MARKET_ROUTES } from "./markets.ts";
import { MODEL_ROUTES } from "./models.ts";
import { NEWS_ROUTES } from "./news.ts";
import { SCHEMA_REGISTRY_ROUTES } from "./schema-registry.ts";
import { TIMESERIES_ROUTES } from "./timeseries.ts";

/**
 * The route groups a node mounts as plain Hono apps (api/app.ts `mounts`), described by their
 * mount prefix: the OpenAPI document lists a group only when the node mounts it, at the path it
 * serves (`/api/...` groups at their versioned `/api/v1/...`). A group written with
 * @hono/zod-openapi (the erasure route) describes itself and has no entry here. The coverage
 * test (test/api/openapi/mounted-routes.test.ts) compares a whole node's routes with the
 * document, so a route added to a group without a description fails there.
 */
export const MOUNTED_ROUTE_DOCS: Readonly<Record<string, readonly RouteConfig[]>> = {
  "/schema-registry": SCHEMA_REGISTRY_ROUTES,
  "/dashboard": DASHBOARD_PAGE_ROUTES,
  "/api/dashboard": DASHBOARD_DATA_ROUTES,
  "/api/timeseries": TIMESERIES_ROUTES,
  "/api/lake": LAKE_ROUTES,
  "/api/features": FEATURE_ROUTES,
  "/api/models": MODEL_ROUTES,
  "/api/alerts": ALERT_ROUTES,
  "/api/news": NEWS_ROUTES,
  "/api/markets": MARKET_ROUTES,
};

/** `/api/lake` + `/tables/{name}` -> `/api/lake/tables/{name}`; `/api/news` + `/` -> `/api/news` */
function join(prefix: string, path: string): string {
  return path === "/" ? prefix : `${prefix}${path}`;
}

/** registers the description of a group mounted at `servedAt` (the prefix as the node serves it) */
export function describeMount(
  // biome-ignore lint/suspicious/noExplicitAny: any app's registry takes route configs
  app: OpenAPIHono<any>,
  prefix: string,
  servedAt: string,
): void {
  for (const route of MOUNTED_ROUTE_DOCS[prefix] ?? [])
    app.openAPIRegistry.registerPath({ ...route, path: join(servedAt, route.path) });
}
