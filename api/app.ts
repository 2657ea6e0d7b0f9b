import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ErrorCodes } from "../messages/errors.ts";
import { bodyLimits, SCHEMA_REGISTRY_BODY_LIMIT_BYTES } from "./body-limits.ts";
import { adminRoutes } from "./gateway/admin-routes.ts";
import type { ApiKeyStore } from "./gateway/api-key-store.ts";
import type { AuditLog } from "./gateway/audit-log.ts";
import { DOCS_PATH, type Gateway, type GatewayEnv } from "./gateway/gateway.ts";
import { API_VERSION_PREFIX, routesWithAccess } from "./gateway/route-policy.ts";
import { type HealthCheck, healthReport } from "./health.ts";
import type { LiveView } from "./live-view.ts";
import type { PlatformMetrics } from "./metrics.ts";
import { describeMount } from "./openapi/mounted-routes.ts";
import { NODE_ROUTES } from "./openapi/node-routes.ts";
import { refuseInvalidRequest } from "./openapi.ts";
import { echo, readRoutes } from "./read-routes.ts";

/**
 * The HTTP face of a node: health, Prometheus metrics, REST over the live view (`/api/v1/...`,
 * with the unversioned `/api/...` kept as deprecated aliases for one release), the admin routes
 * (API keys, audit), the OpenAPI 3.1 document generated from the route definitions
 * (`/openapi.json`) and Swagger UI (`/docs`). Hono only sees Web APIs here; `api/server.ts` binds
 * it to Bun.serve together with the WebSocket feeds.
 *
 * Every request passes the gateway first (`api/gateway/gateway.ts`): authentication, the route x
 * role table, rate limits, CORS, security headers, CSRF rules for writes, the audit record.
 *
 * Every answer that is not a success is `{"error":{"code","message"}}`: 400 for a bad
 * parameter, 404 for an unknown route or key, 405 for a known route with another method, 413
 * for a body over the route's cap, 500 INTERNAL without the internal message (that is logged).
 */
export type { HealthCheck } from "./health.ts";

export interface AppDeps {
  readonly view: LiveView;
  readonly metrics: PlatformMetrics;
  readonly health: readonly HealthCheck[];
  /** the supervision tree of every part of the node (main thread and workers) */
  readonly supervisionTree: () => unknown;
  readonly nodeInfo: () => Record<string, unknown>;
  /** which node owns which partition of the application (scale-out) */
  readonly ownership?: {
    owners(): unknown;
    ownerOfKey(key: string): { partition: number; owner: unknown; local: boolean };
  };
  /** extra route groups mounted at a prefix (schema registry, ...), each with a body cap */
  readonly mounts?: readonly {
    readonly prefix: string;
    // biome-ignore lint/suspicious/noExplicitAny: a mount may declare its own env (Hono's env is invariant)
    readonly app: Hono<any>;
    readonly maxBodyBytes?: number;
  }[];
  /** authentication, authorization, rate limits, CORS, headers and audit of every request */
  readonly gateway: Gateway;
  /** the API keys the admin routes manage (absent: the routes say so) */
  readonly keys?: ApiKeyStore;
  /** where state changes are recorded and read back (GET /api/audit) */
  readonly audit?: AuditLog;
  readonly now?: () => number;
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** What a node serves while it starts: /health says 503 "starting", everything else waits too. */
export function startingApp(): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "starting" }, 503));
  app.all("*", (c) =>
    c.json({ error: { code: "STARTING", message: "the node is starting; retry shortly" } }, 503),
  );
  return app;
}

export function createApp(deps: AppDeps): Hono<GatewayEnv> {
  const app = new OpenAPIHono<GatewayEnv>({ defaultHook: refuseInvalidRequest });
  const now = deps.now ?? Date.now;

  app.use("*", deps.gateway.middleware());
  app.use(
    "*",
    bodyLimits(
      (deps.mounts ?? []).flatMap((m) =>
        (m.prefix.startsWith("/api/") ? [m.prefix, versioned(m.prefix)] : [m.prefix]).map((prefix) => ({
          prefix,
          maxBytes: m.maxBodyBytes ?? SCHEMA_REGISTRY_BODY_LIMIT_BYTES,
        })),
      ),
    ),
  );

  app.get("/health", (c) => {
    const report = healthReport(deps.health, now());
    return c.json(
      { status: report.ready ? "ready" : "unhealthy", checks: report.checks, node: deps.nodeInfo() },
      report.ready ? 200 : 503,
    );
  });

  app.get("/metrics", async (c) => {
    const text = await deps.metrics.text();
    return c.text(text, 200, { "content-type": deps.metrics.contentType });
  });

  const api = new OpenAPIHono<GatewayEnv>();
  api.route("/", readRoutes(deps));
  api.route(
    "/",
    adminRoutes({
      ...(deps.keys ? { keys: deps.keys } : {}),
      ...(deps.audit ? { audit: deps.audit } : {}),
      // read when asked: by then every mount is in
      routes: () => routesWithAccess(app.routes, deps.gateway.policy),
    }),
  );
  app.route(API_VERSION_PREFIX, api);
  // the unversioned paths stay for one release, marked deprecated (RFC 9745) with their successor
  app.route("/api", deprecatedAlias(api));

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "streaming-ml node API",
      version: "1",
      description:
        "Everything one node serves: the read model, time series, lake, features, models, news, markets, alerts, the schema registry, the dashboard, API keys, audit and erasure. Authenticate with `Authorization: Bearer <API key or JWT>`. Routes under /api are versioned (/api/v1/...); the unversioned /api/... paths answer the same for one more release, marked `Deprecation: true` with a successor link. Tabular routes take `fields=` (the fields to keep) and `format=csv` (or `Accept: text/csv`). Live feeds are WebSocket subscriptions on /ws (not described here).",
    },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "an API key (smp_...) or a JWT from the configured issuer",
  });
  app.get(DOCS_PATH, swaggerUI({ url: "/openapi.json" }));

  // a group mounted under /api is versioned like the core routes: /api/v1/... (which the OpenAPI
  // document describes), with the unversioned path as its deprecated alias
  for (const mount of deps.mounts ?? []) {
    if (!mount.prefix.startsWith("/api/")) {
      app.route(mount.prefix, mount.app);
      continue;
    }
    app.route(versioned(mount.prefix), mount.app);
    app.route(mount.prefix, deprecatedAlias(mount.app));
  }
  // the groups written as plain Hono apps are described beside them (api/openapi/)
  for (const mount of deps.mounts ?? [])
    describeMount(
      app,
      mount.prefix,
      mount.prefix.startsWith("/api/") ? versioned(mount.prefix) : mount.prefix,
    );
  for (const route of NODE_ROUTES) app.openAPIRegistry.registerPath(route);

  const routes = routeTable(app);
  app.notFound((c) => {
    const allowed = routes.methodsOf(c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method))
      return c.json(
        errorBody(
          ErrorCodes.METHOD_NOT_ALLOWED,
          `${c.req.method} is not allowed here; allowed: ${allowed.join(", ")}`,
        ),
        405,
        { allow: allowed.join(", ") },
      );
    return c.json(errorBody(ErrorCodes.NOT_FOUND, `no route ${c.req.method} ${echo(c.req.path)}`), 404);
  });
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500)
      return c.json(errorBody(httpCode(error.status), error.message || "bad request"), error.status);
    // the message may name internals (paths, hosts, a stack): it goes to the log, not the caller
    console.error(`API ${c.req.method} ${c.req.path} failed:`, error);
    return c.json(errorBody(ErrorCodes.INTERNAL, "internal error; see the node's log"), 500);
  });
  return app;
}

/** `/api/x` -> `/api/v1/x` */
function versioned(prefix: string): string {
  return `${API_VERSION_PREFIX}${prefix.slice("/api".length)}`;
}

/** a route group at its unversioned path: the same answers, marked deprecated (RFC 9745) with their successor */
// biome-ignore lint/suspicious/noExplicitAny: a group may declare its own env (Hono's env is invariant)
function deprecatedAlias(group: Hono<any>): Hono<GatewayEnv> {
  const alias = new Hono<GatewayEnv>();
  alias.use("*", async (c, next) => {
    await next();
    c.header("deprecation", "true");
    // the raw (percent-encoded) path: a decoded one may hold characters a header cannot
    const rawPath = new URL(c.req.url).pathname;
    c.header("link", `<${API_VERSION_PREFIX}${rawPath.slice("/api".length)}>; rel="successor-version"`);
  });
  alias.route("/", group);
  return alias;
}

function httpCode(status: ContentfulStatusCode): string {
  if (status === 413) return ErrorCodes.PAYLOAD_TOO_LARGE;
  if (status === 404) return ErrorCodes.NOT_FOUND;
  return ErrorCodes.BAD_REQUEST;
}

/** the app's routes as (pattern, method), to tell a wrong method (405) from no route (404) */
function routeTable(app: Hono<GatewayEnv>) {
  const patterns = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({
      method: r.method,
      regex: new RegExp(
        `^${r.path
          .split("/")
          .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
          .join("/")}/?$`,
      ),
    }));
  return {
    methodsOf(path: string): string[] {
      const methods = new Set<string>();
      for (const p of patterns) if (p.regex.test(path)) methods.add(p.method);
      if (methods.has("GET")) methods.add("HEAD");
      return [...methods];
    },
  };
}
