import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningNode } from "../../../node/start-node.ts";
import { eventually, startTestNode } from "../../node/node-fixture.ts";

/**
 * The OpenAPI document against a whole node: every route the node serves (every room on, so
 * every group is mounted) is described in /openapi.json with its method, at its versioned path,
 * and every described route is served. A route added without a description fails here.
 */
interface Doc {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
}
type Route = { method: string; path: string };

/** Hono's `:param` -> OpenAPI's `{param}` */
const openApiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, "{$1}");
/** the dashboard's files are one route each, described as one templated path per folder */
const STATIC_FAMILIES = ["/dashboard/assets/{file}", "/dashboard/vendor/{file}"];
const familyOf = (path: string) =>
  STATIC_FAMILIES.find(
    (family) => path.startsWith(family.slice(0, family.indexOf("{"))) && !path.includes(":"),
  );

let node: RunningNode;
let cleanup: () => Promise<void>;
let routes: Route[];
let doc: Doc;
beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({
    news: "on",
    market: "on",
    marketSources: "simulator",
    lake: "on",
    features: "on",
    models: "on",
  }));
  routes = ((await (await fetch(`${node.apiUrl}/api/v1/admin/routes`)).json()) as { routes: Route[] }).routes;
  doc = (await (await fetch(`${node.apiUrl}/openapi.json`)).json()) as Doc;
}, 120_000);
afterAll(() => cleanup?.());

describe("the OpenAPI document of a whole node", () => {
  test("describes every route the node serves, at its versioned path", () => {
    expect(routes.length).toBeGreaterThan(100);
    const missing = routes
      .filter((r) => !(r.path.startsWith("/api/") && !r.path.startsWith("/api/v1/")))
      .filter((r) => {
        const path = familyOf(r.path) ?? openApiPath(r.path);
        return doc.paths[path]?.[r.method.toLowerCase()] === undefined;
      })
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test("every unversioned /api route is the alias of a versioned one, and the document names only the versioned", () => {
    const served = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const orphans = routes
      .filter((r) => r.path.startsWith("/api/") && !r.path.startsWith("/api/v1/"))
      .filter((r) => !served.has(`${r.method} /api/v1${r.path.slice("/api".length)}`));
    expect(orphans).toEqual([]);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/api/") && !p.startsWith("/api/v1/"))).toEqual(
      [],
    );
  });

  test("describes no route the node does not serve, and declares each path parameter", () => {
    const served = new Set(
      routes.map((r) => `${r.method.toLowerCase()} ${familyOf(r.path) ?? openApiPath(r.path)}`),
    );
    const stale: string[] = [];
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths))
      for (const [method, operation] of Object.entries(operations)) {
        if (!served.has(`${method} ${path}`)) stale.push(`${method} ${path}`);
        const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const declared = (operation.parameters ?? [])
          .filter((p) => p.in === "path")
          .map((p) => p.name)
          .sort();
        if (JSON.stringify(names) !== JSON.stringify(declared)) undeclared.push(`${method} ${path}`);
      }
    expect(stale).toEqual([]);
    expect(undeclared).toEqual([]);
  });
});

describe("the newer tabular routes on a node", () => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${node.apiUrl}${path}`, { headers });

  test.each([
    ["time series", "/timeseries/sensor_readings?limit=5&fields=ts,sensor_id"],
    ["news", "/news?fields=article_id,title"],
    ["market bars", "/markets/AAPL/bars?fields=start,close"],
  ])("%s: the /api alias answers as /api/v1, marked deprecated, and CSV is served", async (_name, path) => {
    // the market room's simulator streams AAPL: its first bars arrive a moment after start
    const v1 = await eventually(
      () => get(`/api/v1${path}`),
      (r) => r.status === 200,
      60_000,
    );
    const body = await v1.json();
    const alias = await get(`/api${path}`);
    expect(alias.status).toBe(200);
    expect(alias.headers.get("deprecation")).toBe("true");
    expect(alias.headers.get("link")).toBe(`</api/v1${path.split("?")[0]}>; rel="successor-version"`);
    const aliasBody = (await alias.json()) as Record<string, unknown>;
    // the same keys, and for a table with fields= only the fields asked for
    expect(Object.keys(aliasBody).sort()).toEqual(Object.keys(body as object).sort());
    const csv = await get(`/api/v1${path}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect((await csv.text()).split("\r\n")[0]).toBe(
      new URL(`http://x${path}`).searchParams.get("fields") ?? "",
    );
  });

  test("lake query results: the alias, fields= and CSV", async () => {
    const query = (path: string) =>
      fetch(`${node.apiUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql: "SELECT 1 AS one, 'a' AS letter" }),
      });
    const v1 = (await (await query("/api/v1/lake/query?fields=letter")).json()) as { rows: unknown[] };
    expect(v1.rows).toEqual([{ letter: "a" }]);
    const alias = await query("/api/lake/query?fields=letter");
    expect(alias.headers.get("deprecation")).toBe("true");
    expect(((await alias.json()) as { rows: unknown[] }).rows).toEqual([{ letter: "a" }]);
    expect(await (await query("/api/v1/lake/query?format=csv")).text()).toBe("one,letter\r\n1,a\r\n");
  });
});
