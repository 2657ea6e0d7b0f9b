import type { FeedName } from "../feeds/feed-names.ts";
import type { Role } from "./roles.ts";

/**
 * Who may call what: one table of (method, route pattern) -> the least role that reaches it, or
 * "public". Patterns are written as the app registers them (Hono's `:param`); the versioned
 * `/api/v1/...` routes and their unversioned aliases share one entry (written `/api/...`).
 *
 * Secure by default: a route the table does not name needs `admin`, and the authorization
 * matrix test (`test/api/gateway/route-policy.test.ts`) enumerates the app's real routes and
 * fails for any route without an entry, so a new route is a decision, not an accident.
 */
export type Access = "public" | Role;

export interface RouteRule {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly access: Access;
}

const REGISTRY = "/schema-registry";

export const ROUTE_POLICY: readonly RouteRule[] = [
  // probes and the API's own description
  { method: "GET", path: "/health", access: "public" },
  { method: "GET", path: "/docs", access: "public" },
  { method: "GET", path: "/openapi.json", access: "public" },
  // Prometheus scrapes with a bearer credential (scrape_config authorization)
  { method: "GET", path: "/metrics", access: "viewer" },
  { method: "GET", path: "/ws", access: "viewer" },
  // the read model
  { method: "GET", path: "/api/sensors", access: "viewer" },
  { method: "GET", path: "/api/sensors/:id", access: "viewer" },
  { method: "GET", path: "/api/sensors/:id/readings/latest", access: "viewer" },
  { method: "GET", path: "/api/sensors/:id/windows", access: "viewer" },
  { method: "GET", path: "/api/windows/:type", access: "viewer" },
  { method: "GET", path: "/api/predictions", access: "viewer" },
  { method: "GET", path: "/api/drift", access: "viewer" },
  { method: "GET", path: "/api/alerts", access: "viewer" },
  { method: "GET", path: "/api/quality", access: "viewer" },
  { method: "GET", path: "/api/owners", access: "viewer" },
  { method: "GET", path: "/api/owner/:key", access: "viewer" },
  { method: "GET", path: "/api/timeseries", access: "viewer" },
  { method: "GET", path: "/api/timeseries/:table", access: "viewer" },
  { method: "GET", path: "/api/dashboard/summary", access: "viewer" },
  { method: "GET", path: "/api/news", access: "viewer" },
  { method: "GET", path: "/api/news/sentiment", access: "viewer" },
  { method: "GET", path: "/api/news/sources", access: "viewer" },
  { method: "GET", path: "/api/markets/sources", access: "viewer" },
  { method: "GET", path: "/api/markets/:symbol/bars", access: "viewer" },
  { method: "GET", path: "/api/markets/:symbol/indicators", access: "viewer" },
  // alerts as Alertmanager has them: anyone may look, an operator silences
  { method: "GET", path: "/api/alerts/active", access: "viewer" },
  { method: "GET", path: "/api/alerts/silences", access: "viewer" },
  { method: "GET", path: "/api/alerts/silences/:id", access: "viewer" },
  { method: "POST", path: "/api/alerts/silences", access: "operator" },
  { method: "DELETE", path: "/api/alerts/silences/:id", access: "operator" },
  // the lake: reads, and SQL over it (a POST that reads: one SELECT, confined to the lake)
  { method: "GET", path: "/api/lake/tables", access: "viewer" },
  { method: "GET", path: "/api/lake/tables/:name", access: "viewer" },
  { method: "GET", path: "/api/lake/tables/:name/history", access: "viewer" },
  { method: "POST", path: "/api/lake/query", access: "viewer" },
  // ... and its maintenance: compaction changes no data; VACUUM ends time travel to older versions
  { method: "POST", path: "/api/lake/tables/:name/optimize", access: "operator" },
  { method: "POST", path: "/api/lake/tables/:name/vacuum", access: "admin" },
  // models: anyone may read them and ask for a prediction (a read: predictions asked through the
  // API are not joined to live labels, so a caller cannot steer the monitoring that promotes and
  // rolls back); changing what serves is an operator's
  { method: "GET", path: "/api/models", access: "viewer" },
  { method: "GET", path: "/api/models/:name", access: "viewer" },
  { method: "POST", path: "/api/models/:name/predict", access: "viewer" },
  { method: "PUT", path: "/api/models/:name/policy", access: "operator" },
  { method: "POST", path: "/api/models/:name/canary/step", access: "operator" },
  { method: "POST", path: "/api/models/:name/promote", access: "operator" },
  { method: "POST", path: "/api/models/:name/rollback", access: "operator" },
  { method: "POST", path: "/api/models/:name/retrain", access: "operator" },
  // the feature store: anyone may read views and features; registering a view (a new version every
  // node's API serves and every training set may pick), materializing and computing statistics
  // (jobs over the lake) are an operator's
  { method: "GET", path: "/api/features", access: "viewer" },
  { method: "GET", path: "/api/features/online", access: "viewer" },
  { method: "GET", path: "/api/features/:name", access: "viewer" },
  { method: "GET", path: "/api/features/:name/versions/:version", access: "viewer" },
  { method: "GET", path: "/api/features/:name/statistics", access: "viewer" },
  { method: "POST", path: "/api/features/views", access: "operator" },
  { method: "POST", path: "/api/features/:name/materialize", access: "operator" },
  { method: "POST", path: "/api/features/:name/statistics", access: "operator" },
  // the dashboard's pages and assets hold no data (that comes from the routes above and /ws)
  { method: "GET", path: "/dashboard", access: "public" },
  { method: "GET", path: "/dashboard/:page", access: "public" },
  { method: "GET", path: "/dashboard/assets/:file", access: "public" },
  { method: "GET", path: "/dashboard/vendor/:file", access: "public" },
  // the node's internals
  { method: "GET", path: "/api/supervision", access: "operator" },
  // who did what, and the keys that let them
  { method: "GET", path: "/api/audit", access: "admin" },
  { method: "GET", path: "/api/admin/api-keys", access: "admin" },
  { method: "POST", path: "/api/admin/api-keys", access: "admin" },
  { method: "DELETE", path: "/api/admin/api-keys/:id", access: "admin" },
  { method: "GET", path: "/api/admin/routes", access: "admin" },
  // a deletion request reaches every store (security/erasure-workflow.ts)
  { method: "POST", path: "/api/admin/erasures", access: "admin" },
  // the schema registry: reads (a lookup and a compatibility check are POSTs that change nothing)
  { method: "GET", path: `${REGISTRY}`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/schemas/types`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/subjects`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/subjects/:subject/versions`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/subjects/:subject/versions/:version`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/subjects/:subject/versions/:version/schema`, access: "viewer" },
  { method: "POST", path: `${REGISTRY}/subjects/:subject`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/schemas/ids/:id`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/schemas/ids/:id/schema`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/schemas/ids/:id/versions`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/schemas/ids/:id/subjects`, access: "viewer" },
  { method: "POST", path: `${REGISTRY}/compatibility/subjects/:subject/versions/:version`, access: "viewer" },
  { method: "POST", path: `${REGISTRY}/compatibility/subjects/:subject/versions`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/config`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/config/:subject`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/mode`, access: "viewer" },
  { method: "GET", path: `${REGISTRY}/mode/:subject`, access: "viewer" },
  // ... and its writes: a schema decides what every node can decode
  { method: "POST", path: `${REGISTRY}/subjects/:subject/versions`, access: "admin" },
  { method: "DELETE", path: `${REGISTRY}/subjects/:subject`, access: "admin" },
  { method: "DELETE", path: `${REGISTRY}/subjects/:subject/versions/:version`, access: "admin" },
  { method: "PUT", path: `${REGISTRY}/config`, access: "admin" },
  { method: "PUT", path: `${REGISTRY}/config/:subject`, access: "admin" },
  { method: "DELETE", path: `${REGISTRY}/config/:subject`, access: "admin" },
  { method: "PUT", path: `${REGISTRY}/mode`, access: "admin" },
  { method: "PUT", path: `${REGISTRY}/mode/:subject`, access: "admin" },
];

/** the least role that may subscribe to each WebSocket feed (a new feed without one fails the type check) */
export const FEED_POLICY: Readonly<Record<FeedName, Role>> = {
  readings: "viewer",
  windows: "viewer",
  predictions: "viewer",
  drift: "viewer",
  alerts: "viewer",
  news: "viewer",
  bars: "viewer",
  quotes: "viewer",
  models: "viewer",
  // internals: restarts with their reasons, rejected input with its raw bytes
  supervisor: "operator",
  "dead-letters": "operator",
};

/** the versioned API and its unversioned alias share one policy entry */
export const API_VERSION_PREFIX = "/api/v1";

export function unversioned(path: string): string {
  if (path === API_VERSION_PREFIX) return "/api";
  return path.startsWith(`${API_VERSION_PREFIX}/`) ? `/api${path.slice(API_VERSION_PREFIX.length)}` : path;
}

const escapeRegex = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** a Hono route pattern as a regular expression over request paths */
export function patternRegex(pattern: string): RegExp {
  const body = pattern
    .split("/")
    .map((part) => {
      if (part === "*") return ".*";
      if (part.startsWith(":")) return "[^/]+";
      return escapeRegex(part);
    })
    .join("/");
  return new RegExp(`^${body}/?$`);
}

export interface RoutePolicy {
  /** the access a request needs; a route without an entry needs `admin` */
  accessFor(method: string, path: string): Access;
  /** the entry a request falls under, if any */
  match(method: string, path: string): RouteRule | undefined;
  /** the table entry for a registered route pattern, if any (the matrix test asks this) */
  ruleFor(method: string, pattern: string): RouteRule | undefined;
}

/** the app's registered routes (handlers, not middleware) with the access the table gives each */
export function routesWithAccess(
  routes: readonly { method: string; path: string }[],
  policy: RoutePolicy,
): { method: string; path: string; access: Access | null }[] {
  const seen = new Set<string>();
  const listed: { method: string; path: string; access: Access | null }[] = [];
  for (const route of routes) {
    // app.use middleware is registered as ALL; "/*" patterns are middleware of sub-apps
    if (route.method === "ALL" || route.path.endsWith("*")) continue;
    const id = `${route.method} ${route.path}`;
    if (seen.has(id)) continue;
    seen.add(id);
    listed.push({
      method: route.method,
      path: route.path,
      access: policy.ruleFor(route.method, route.path)?.access ?? null,
    });
  }
  return listed;
}

export function routePolicy(rules: readonly RouteRule[] = ROUTE_POLICY): RoutePolicy {
  const compiled = rules.map((rule) => ({ rule, regex: patternRegex(rule.path) }));
  const exact = new Map(rules.map((rule) => [`${rule.method} ${rule.path}`, rule]));
  const match = (method: string, path: string) => {
    const asked = method === "HEAD" ? "GET" : method;
    const plain = unversioned(path);
    // a literal path wins over a pattern (`/api/admin/api-keys` is not an `:id`)
    return (
      exact.get(`${asked} ${plain}`) ??
      compiled.find((c) => c.rule.method === asked && c.regex.test(plain))?.rule
    );
  };
  return {
    match,
    accessFor: (method, path) => match(method, path)?.access ?? "admin",
    ruleFor(method, pattern) {
      const trimmed = pattern.length > 1 ? pattern.replace(/\/$/, "") : pattern;
      // a literal route (`/dashboard/assets/charts.js`) falls under a pattern entry
      return (
        exact.get(`${method === "HEAD" ? "GET" : method} ${unversioned(trimmed)}`) ?? match(method, trimmed)
      );
    },
  };
}
