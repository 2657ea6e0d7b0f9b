import { Hono } from "hono";
import type { LiveView } from "../lake/live-view.ts";
import { SENSOR_TYPES, type SensorType } from "../messages/sensor-reading.ts";
import { qualityRulesAsJson } from "../stream/quality/quality-rules-json.ts";
import type { PlatformMetrics } from "./metrics.ts";

/**
 * The HTTP face of a node: health, Prometheus metrics, and REST over the live view. Hono only
 * sees Web APIs here; `api/server.ts` binds it to Bun.serve together with the WebSocket feeds.
 */
export interface HealthCheck {
  readonly name: string;
  ready(): boolean;
}

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
  /** extra route groups mounted at a prefix (schema registry, ...) */
  readonly mounts?: readonly { readonly prefix: string; readonly app: Hono }[];
}

function limitParam(raw: string | undefined, fallback: number): number | Error {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    return new Error(`limit must be an integer from 1 to 10000, got '${raw}'`);
  return limit;
}

function sensorTypeParam(raw: string | undefined): SensorType | undefined | Error {
  if (raw === undefined) return undefined;
  return (SENSOR_TYPES as readonly string[]).includes(raw)
    ? (raw as SensorType)
    : new Error(`type must be one of ${SENSOR_TYPES.join(", ")}, got '${raw}'`);
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
  const badRequest = (message: string) => ({ error: { code: "BAD_REQUEST", message } });

  app.get("/health", (c) => {
    const checks = Object.fromEntries(deps.health.map((check) => [check.name, check.ready()]));
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? "ready" : "starting", checks, node: deps.nodeInfo() }, ready ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    const text = await deps.metrics.text();
    return c.text(text, 200, { "content-type": deps.metrics.contentType });
  });

  app.get("/api/sensors", (c) => {
    const type = sensorTypeParam(c.req.query("type"));
    if (type instanceof Error) return c.json(badRequest(type.message), 400);
    return c.json({ sensors: deps.view.sensorList(type) });
  });

  app.get("/api/sensors/:id", (c) => {
    const id = c.req.param("id");
    const summary = deps.view.sensorList().find((s) => s.sensor_id === id);
    if (!summary) {
      // another node of the application may own it: say which
      const owner = deps.ownership?.ownerOfKey(id);
      const elsewhere = owner && !owner.local ? { owner } : {};
      return c.json(
        { error: { code: "NOT_FOUND", message: `no sensor '${id}' seen on this node` }, ...elsewhere },
        404,
      );
    }
    return c.json({ sensor: summary, latest: deps.view.latestReading(id) });
  });

  app.get("/api/sensors/:id/readings/latest", (c) => {
    const reading = deps.view.latestReading(c.req.param("id"));
    if (!reading)
      return c.json({ error: { code: "NOT_FOUND", message: `no reading for '${c.req.param("id")}'` } }, 404);
    return c.json({ reading });
  });

  app.get("/api/sensors/:id/windows", (c) => {
    const limit = limitParam(c.req.query("limit"), 60);
    if (limit instanceof Error) return c.json(badRequest(limit.message), 400);
    return c.json({ windows: deps.view.sensorWindows(c.req.param("id"), limit) });
  });

  app.get("/api/windows/:type", (c) => {
    const type = sensorTypeParam(c.req.param("type"));
    if (type instanceof Error || type === undefined)
      return c.json(badRequest(type instanceof Error ? type.message : "type is required"), 400);
    const limit = limitParam(c.req.query("limit"), 60);
    if (limit instanceof Error) return c.json(badRequest(limit.message), 400);
    return c.json({ windows: deps.view.typeWindows(type, limit) });
  });

  app.get("/api/predictions", (c) => {
    const limit = limitParam(c.req.query("limit"), 100);
    if (limit instanceof Error) return c.json(badRequest(limit.message), 400);
    return c.json({ predictions: deps.view.recentPredictions(limit, c.req.query("key")) });
  });

  app.get("/api/drift", (c) => c.json({ drift: deps.view.driftReports() }));

  app.get("/api/alerts", (c) => {
    const limit = limitParam(c.req.query("limit"), 100);
    if (limit instanceof Error) return c.json(badRequest(limit.message), 400);
    return c.json({ alerts: deps.view.recentAlerts(limit) });
  });

  app.get("/api/quality", (c) => {
    const quality = deps.view.quality;
    const windows = quality.windowStarts().slice(-10);
    return c.json({
      formula: "0.4 validity + 0.3 completeness + 0.2 timeliness + 0.1 uniqueness",
      byWindow: windows.map((start) => ({
        window_start: start,
        overall: quality.window(start),
        byType: Object.fromEntries(SENSOR_TYPES.map((type) => [type, quality.type(type, start)])),
      })),
      bySensor: deps.view
        .sensorList()
        .map((s) => ({ sensor_id: s.sensor_id, type: s.type, latest: quality.sensor(s.sensor_id) })),
      ruleCounts: quality.ruleCounts(),
      rules: qualityRulesAsJson(),
    });
  });

  app.get("/api/owners", (c) => c.json({ owners: deps.ownership?.owners() ?? [] }));
  app.get("/api/owner/:key", (c) => {
    if (!deps.ownership)
      return c.json({ error: { code: "NOT_FOUND", message: "no ownership information" } }, 404);
    return c.json({ key: c.req.param("key"), ...deps.ownership.ownerOfKey(c.req.param("key")) });
  });

  app.get("/api/supervision", (c) => c.json({ tree: deps.supervisionTree() }));

  for (const mount of deps.mounts ?? []) app.route(mount.prefix, mount.app);

  app.notFound((c) =>
    c.json({ error: { code: "NOT_FOUND", message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) =>
    c.json(
      { error: { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) } },
      500,
    ),
  );
  return app;
}
