import type { Context } from "hono";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ErrorCodes } from "../messages/errors.ts";
import { SENSOR_TYPES, type SensorType } from "../messages/sensor-reading.ts";
import { qualityRulesAsJson } from "../stream/quality/quality-rules-json.ts";
import { bodyLimits, SCHEMA_REGISTRY_BODY_LIMIT_BYTES } from "./body-limits.ts";
import { type HealthCheck, healthReport } from "./health.ts";
import type { LiveView } from "./live-view.ts";
import type { PlatformMetrics } from "./metrics.ts";
import { pageOf, pageRequestOf } from "./pagination.ts";

/**
 * The HTTP face of a node: health, Prometheus metrics, and REST over the live view. Hono only
 * sees Web APIs here; `api/server.ts` binds it to Bun.serve together with the WebSocket feeds.
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
    readonly app: Hono;
    readonly maxBodyBytes?: number;
  }[];
  readonly now?: () => number;
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });
/** echo at most this much of a caller's text in an error message */
const echo = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}...` : text);

function sensorTypeParam(raw: string | undefined): SensorType | undefined | Error {
  if (raw === undefined) return undefined;
  return (SENSOR_TYPES as readonly string[]).includes(raw)
    ? (raw as SensorType)
    : new Error(`type must be one of ${SENSOR_TYPES.join(", ")}, got '${echo(raw)}'`);
}

/** What a node serves while it starts: /health says 503 "starting", everything else waits too. */
export function startingApp(): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "starting" }, 503));
  app.all("*", (c) =>
    c.json({ error: { code: "STARTING", message: "the node is starting; retry shortly" } }, 503),
  );
  return app;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const badRequest = (c: Context, message: string) => c.json(errorBody(ErrorCodes.BAD_REQUEST, message), 400);
  const query = (c: Context) => (name: string) => c.req.query(name);

  app.use(
    "*",
    bodyLimits(
      (deps.mounts ?? []).map((m) => ({
        prefix: m.prefix,
        maxBytes: m.maxBodyBytes ?? SCHEMA_REGISTRY_BODY_LIMIT_BYTES,
      })),
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

  app.get("/api/sensors", (c) => {
    const type = sensorTypeParam(c.req.query("type"));
    if (type instanceof Error) return badRequest(c, type.message);
    const page = pageRequestOf(query(c), 100);
    if (page instanceof Error) return badRequest(c, page.message);
    const { items, page: shape } = pageOf(deps.view.sensorList(type), page);
    return c.json({ sensors: items, page: shape });
  });

  app.get("/api/sensors/:id", (c) => {
    const id = c.req.param("id");
    const summary = deps.view.sensor(id);
    if (!summary) {
      // another node of the application may own it: say which
      const owner = deps.ownership?.ownerOfKey(id);
      const elsewhere = owner && !owner.local ? { owner } : {};
      return c.json(
        { ...errorBody(ErrorCodes.NOT_FOUND, `no sensor '${echo(id)}' seen on this node`), ...elsewhere },
        404,
      );
    }
    return c.json({ sensor: summary, latest: deps.view.latestReading(id) });
  });

  app.get("/api/sensors/:id/readings/latest", (c) => {
    const id = c.req.param("id");
    const reading = deps.view.latestReading(id);
    if (!reading) return c.json(errorBody(ErrorCodes.NOT_FOUND, `no reading for '${echo(id)}'`), 404);
    return c.json({ reading });
  });

  app.get("/api/sensors/:id/windows", (c) => {
    const page = pageRequestOf(query(c), 60);
    if (page instanceof Error) return badRequest(c, page.message);
    const { items, page: shape } = pageOf(deps.view.sensorWindows(c.req.param("id")), page);
    return c.json({ windows: items, page: shape });
  });

  app.get("/api/windows/:type", (c) => {
    const type = sensorTypeParam(c.req.param("type"));
    if (type instanceof Error || type === undefined)
      return badRequest(c, type instanceof Error ? type.message : "type is required");
    const page = pageRequestOf(query(c), 60);
    if (page instanceof Error) return badRequest(c, page.message);
    const { items, page: shape } = pageOf(deps.view.typeWindows(type), page);
    return c.json({ windows: items, page: shape });
  });

  app.get("/api/predictions", (c) => {
    const page = pageRequestOf(query(c), 100);
    if (page instanceof Error) return badRequest(c, page.message);
    const all = deps.view.recentPredictions(Number.MAX_SAFE_INTEGER, c.req.query("key"));
    const { items, page: shape } = pageOf(all, page);
    return c.json({ predictions: items, page: shape });
  });

  app.get("/api/drift", (c) => {
    const page = pageRequestOf(query(c), 100);
    if (page instanceof Error) return badRequest(c, page.message);
    const { items, page: shape } = pageOf(deps.view.driftReports(), page);
    return c.json({ drift: items, page: shape });
  });

  app.get("/api/alerts", (c) => {
    const page = pageRequestOf(query(c), 100);
    if (page instanceof Error) return badRequest(c, page.message);
    const { items, page: shape } = pageOf(deps.view.recentAlerts(Number.MAX_SAFE_INTEGER), page);
    return c.json({ alerts: items, page: shape });
  });

  app.get("/api/quality", (c) => {
    const page = pageRequestOf(query(c), 100);
    if (page instanceof Error) return badRequest(c, page.message);
    const quality = deps.view.quality;
    const windows = quality.windowStarts().slice(-10);
    const sensors = pageOf(deps.view.sensorList(), page);
    return c.json({
      formula: "0.4 validity + 0.3 completeness + 0.2 timeliness + 0.1 uniqueness",
      byWindow: windows.map((start) => ({
        window_start: start,
        overall: quality.window(start),
        byType: Object.fromEntries(SENSOR_TYPES.map((type) => [type, quality.type(type, start)])),
      })),
      bySensor: sensors.items.map((s) => ({
        sensor_id: s.sensor_id,
        type: s.type,
        latest: quality.sensor(s.sensor_id),
      })),
      page: sensors.page,
      ruleCounts: quality.ruleCounts(),
      rules: qualityRulesAsJson(),
    });
  });

  app.get("/api/owners", (c) => c.json({ owners: deps.ownership?.owners() ?? [] }));
  app.get("/api/owner/:key", (c) => {
    if (!deps.ownership) return c.json(errorBody(ErrorCodes.NOT_FOUND, "no ownership information"), 404);
    return c.json({ key: c.req.param("key"), ...deps.ownership.ownerOfKey(c.req.param("key")) });
  });

  app.get("/api/supervision", (c) => c.json({ tree: deps.supervisionTree() }));

  for (const mount of deps.mounts ?? []) app.route(mount.prefix, mount.app);

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

function httpCode(status: ContentfulStatusCode): string {
  if (status === 413) return ErrorCodes.PAYLOAD_TOO_LARGE;
  if (status === 404) return ErrorCodes.NOT_FOUND;
  return ErrorCodes.BAD_REQUEST;
}

/** the app's routes as (pattern, method), to tell a wrong method (405) from no route (404) */
function routeTable(app: Hono) {
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
