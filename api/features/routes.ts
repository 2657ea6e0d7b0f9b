import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FeatureStore } from "../../features/feature-store.ts";
import { MAX_ENTITIES } from "../../features/online/online-serving.ts";
import { type ErrorCode, ErrorCodes, isPlatformError } from "../../messages/errors.ts";

/**
 * The feature store over HTTP, mounted at /api/features:
 *
 *   GET  /api/features?q=&owner=&entity=&tag=         views and on-demand views (search), freshness
 *   GET  /api/features/online?view=..&entities=a,b    latest values (also `<join key>=a&<join key>=b`,
 *                                                     `features=`, `version=`, `request.<field>=`)
 *   GET  /api/features/:name                          every version, lineage, statistics
 *   GET  /api/features/:name/versions/:version        one version's definition
 *   GET  /api/features/:name/statistics?version=      the stored statistics (drift reference)
 *   POST /api/features/views                          register a definition (JSON body)
 *   POST /api/features/:name/materialize              {"from","to"} or {"incremental":true}
 *   POST /api/features/:name/statistics               compute and store ?version='s statistics
 *
 * Errors are `{"error":{"code","message"}}`: an unknown view 404, a bad request, entity or time
 * 400, a definition the registry refuses 409, the online store unreachable 503.
 */
const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  [ErrorCodes.FEATURE_VIEW_NOT_FOUND]: 404,
  [ErrorCodes.FEATURE_VIEW_INVALID]: 400,
  [ErrorCodes.FEATURE_VIEW_INCOMPATIBLE]: 409,
  [ErrorCodes.FEATURE_ENTITY_UNKNOWN]: 400,
  [ErrorCodes.FEATURE_MISSING]: 400,
  [ErrorCodes.OUT_OF_RANGE]: 400,
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.LAKE_TABLE_UNKNOWN]: 400,
  [ErrorCodes.INFRA_UNAVAILABLE]: 503,
  [ErrorCodes.DELTA_COMMIT_CONFLICT]: 409,
};
const RESERVED = new Set(["view", "entities", "features", "version"]);
const errorBody = (code: string, message: string) => ({ error: { code, message } });
const clip = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}...` : text);

export function featureRoutes(store: FeatureStore): Hono {
  const app = new Hono();
  const fail = (c: Context, code: ErrorCode, message: string) =>
    c.json(errorBody(code, message), STATUS[code] ?? 400);

  app.onError((error, c) => {
    if (isPlatformError(error) && STATUS[error.code] !== undefined)
      // the message without the code prefix PlatformError puts in front
      return fail(c, error.code, error.message.replace(`${error.code}: `, ""));
    console.error(`API ${c.req.method} ${c.req.path} failed:`, error);
    return c.json(errorBody(ErrorCodes.INTERNAL, "internal error; see the node's log"), 500);
  });

  app.get("/", async (c) => {
    await store.registry.refresh();
    const one = singleParams(c, ["q", "owner", "entity", "tag"]);
    if (one instanceof Error) return fail(c, ErrorCodes.BAD_REQUEST, one.message);
    const freshness = new Map(store.freshness().map((f) => [`${f.view}@${f.version}`, f.newestEventTime]));
    const now = Date.now();
    const views = store.registry.search(one).map((s) => {
      const newest = freshness.get(`${s.name}@${s.latestVersion}`);
      return { ...s, freshnessSeconds: newest === undefined ? null : Math.max(0, (now - newest) / 1000) };
    });
    return c.json({ onlineStore: store.online.kind, views });
  });

  app.get("/online", async (c) => {
    const params = c.req.queries();
    const name = params.view?.length === 1 ? params.view[0] : undefined;
    if (!name) return fail(c, ErrorCodes.BAD_REQUEST, "name one view: ?view=<name>");
    // the serving path reads the registry as the node holds it (the node refreshes it every few
    // seconds); only a view it does not know yet costs a read of the topic
    if (!store.registry.isOnDemand(name) && !store.registry.has(name)) await store.registry.refresh();
    const joinKey = store.registry.isOnDemand(name) ? undefined : store.registry.view(name).definition.entity;
    const entities: string[] = [];
    // no prototype: `request.__proto__=` or `request.constructor=` is a field like any other
    const request: Record<string, string> = Object.create(null);
    for (const [param, values] of Object.entries(params)) {
      if (param === "entities") entities.push(...values.flatMap((v) => v.split(",")).filter((v) => v !== ""));
      else if (param.startsWith("request.")) request[param.slice("request.".length)] = values.at(-1) ?? "";
      else if (RESERVED.has(param)) continue;
      else if (joinKey === undefined || param === joinKey) entities.push(...values);
      else
        return fail(
          c,
          ErrorCodes.FEATURE_ENTITY_UNKNOWN,
          `view ${name} is keyed by ${joinKey}, not '${clip(param)}' (?${joinKey}=<key> or ?entities=<key>,<key>)`,
        );
    }
    if (entities.length > MAX_ENTITIES)
      return fail(
        c,
        ErrorCodes.OUT_OF_RANGE,
        `at most ${MAX_ENTITIES} entities a request, got ${entities.length}`,
      );
    const version = params.version?.[0];
    if (version !== undefined && !/^[1-9][0-9]{0,8}$/.test(version))
      return fail(c, ErrorCodes.BAD_REQUEST, `version must be a positive integer, got '${clip(version)}'`);
    const features = params.features?.flatMap((f) => f.split(",")).filter(Boolean);
    const result = await store.readOnline({
      view: name,
      entities,
      ...(version ? { version: Number(version) } : {}),
      ...(features && features.length > 0 ? { features } : {}),
      request,
    });
    return c.json(result);
  });

  app.post("/views", async (c) => {
    const body = await jsonBody(c);
    if (body instanceof Error) return fail(c, ErrorCodes.MALFORMED_JSON, body.message);
    // the name is read before the registry validates the definition: any JSON value may be here
    const name = body !== null && typeof body === "object" ? (body as { name?: unknown }).name : undefined;
    const before = store.registry.search().find((s) => s.name === name)?.latestVersion;
    const registered = await store.registry.register(body as never);
    return c.json(registered, before !== undefined && registered.version <= before ? 200 : 201);
  });

  app.get("/:name", async (c) => {
    await store.registry.refresh();
    const name = c.req.param("name");
    if (store.registry.isOnDemand(name))
      return c.json({ kind: "on_demand", view: store.registry.onDemandView(name) });
    const versions = store.registry.versions(name).map((v) => ({
      ...v,
      statistics: store.registry.statistics(v.name, v.version) ?? null,
    }));
    return c.json({ kind: "view", name, versions });
  });

  app.get("/:name/versions/:version", async (c) => {
    await store.registry.refresh();
    const version = c.req.param("version");
    if (!/^[1-9][0-9]{0,8}$/.test(version))
      return fail(c, ErrorCodes.BAD_REQUEST, `version must be a positive integer, got '${clip(version)}'`);
    return c.json(store.registry.view(c.req.param("name"), Number(version)));
  });

  app.get("/:name/statistics", async (c) => {
    await store.registry.refresh();
    const view = store.registry.view(c.req.param("name"), versionParam(c));
    const statistics = store.registry.statistics(view.name, view.version);
    if (!statistics)
      return fail(
        c,
        ErrorCodes.FEATURE_VIEW_NOT_FOUND,
        `no statistics for ${view.name} v${view.version} yet (POST /api/features/${view.name}/statistics computes them)`,
      );
    return c.json(statistics);
  });

  app.post("/:name/statistics", async (c) => {
    await store.registry.refresh();
    const view = store.registry.view(c.req.param("name"), versionParam(c));
    return c.json(await store.computeStatistics(view.name, view.version), 201);
  });

  app.post("/:name/materialize", async (c) => {
    const body = await jsonBody(c);
    if (body instanceof Error) return fail(c, ErrorCodes.MALFORMED_JSON, body.message);
    const { from, to, incremental } = (body ?? {}) as { from?: unknown; to?: unknown; incremental?: unknown };
    await store.registry.refresh();
    const name = c.req.param("name");
    if (incremental === true) return c.json(await store.materializeIncremental(name));
    const range = { from: instant("from", from), to: instant("to", to ?? Date.now()) };
    for (const value of Object.values(range))
      if (value instanceof Error) return fail(c, ErrorCodes.OUT_OF_RANGE, value.message);
    return c.json(await store.materialize(name, range as { from: number; to: number }));
  });

  return app;
}

function versionParam(c: Context): number | "latest" {
  const version = c.req.query("version");
  return version !== undefined && /^[1-9][0-9]{0,8}$/.test(version) ? Number(version) : "latest";
}

function singleParams(c: Context, names: readonly string[]): Record<string, string> | Error {
  const out: Record<string, string> = {};
  for (const name of names) {
    const values = c.req.queries(name);
    if (values === undefined) continue;
    if (values.length !== 1) return new Error(`${name} is given twice`);
    if (values[0]!.length > 200) return new Error(`${name} is longer than 200 characters`);
    out[name] = values[0]!;
  }
  return out;
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) return new Error("the body is not JSON");
    throw error;
  }
}

function instant(name: string, value: unknown): number | Error {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(value)) {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return new Error(`${name} must be epoch milliseconds or an ISO 8601 time`);
}
