import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ROLES, type Role, roleAtLeast } from "../../../api/gateway/roles.ts";
import {
  type Access,
  ROUTE_POLICY,
  routePolicy,
  routesWithAccess,
} from "../../../api/gateway/route-policy.ts";
import { startTestNode } from "../../node/node-fixture.ts";
import { bearer, type SecuredApp, securedApp } from "./gateway-fixture.ts";

const policy = routePolicy();

describe("the route policy", () => {
  test("names each route once", () => {
    const seen = ROUTE_POLICY.map((rule) => `${rule.method} ${rule.path}`);
    expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
  });

  test.each([
    ["GET", "/health", "public"],
    ["GET", "/api/sensors", "viewer"],
    ["GET", "/api/v1/sensors", "viewer"],
    ["HEAD", "/api/v1/sensors/traffic_1", "viewer"],
    ["GET", "/api/supervision", "operator"],
    ["GET", "/api/v1/admin/api-keys", "admin"],
    ["DELETE", "/api/v1/admin/api-keys/0123456789ab", "admin"],
    ["GET", "/schema-registry/subjects/city.sensors.raw-value/versions/latest", "viewer"],
    ["POST", "/schema-registry/subjects/city.sensors.raw-value", "viewer"],
    ["POST", "/schema-registry/subjects/city.sensors.raw-value/versions", "admin"],
    ["DELETE", "/schema-registry/subjects/city.sensors.raw-value", "admin"],
    ["PUT", "/schema-registry/config", "admin"],
    // not in the table: secure by default
    ["GET", "/api/v1/something-new", "admin"],
    ["POST", "/api/sensors", "admin"],
    ["GET", "/api/v2/sensors", "admin"],
  ] as const)("%s %s needs %s", (method, path, access) => {
    expect(policy.accessFor(method, path)).toBe(access);
  });
});

/** a concrete request path for a route pattern */
const concrete = (pattern: string) => pattern.replace(/:[A-Za-z_]+/g, "x1");

/**
 * The authorization matrix: every rule of the table, asked by an anonymous caller and by each
 * role, through the whole app. A role below the rule's is 403, no credential is 401, and a role
 * at or above it is let through (whatever the route then answers: 200, 404, 400...).
 */
describe("the authorization matrix (route x role)", () => {
  let secured: SecuredApp;
  beforeAll(async () => {
    // the matrix sends every rule x caller x prefix from one address: past the default bucket
    // (burst 400) the answers were 429s, read as "through"; the limits have their own tests
    secured = await securedApp({ rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } });
  });
  afterAll(() => secured.close());

  test("every route of the app has an entry in the table", () => {
    const missing = routesWithAccess(secured.app.routes, secured.gateway.policy).filter(
      (r) => r.access === null,
    );
    expect(missing).toEqual([]);
  });

  const callers: (Role | "anonymous")[] = ["anonymous", ...ROLES];
  const expected = (access: Access, caller: Role | "anonymous") => {
    if (access === "public") return "through";
    if (caller === "anonymous") return 401;
    return roleAtLeast(caller, access) ? "through" : 403;
  };
  const cases = ROUTE_POLICY.filter((rule) => rule.path !== "/ws").flatMap((rule) =>
    callers.map((caller) => [rule.method, rule.path, caller, expected(rule.access, caller)] as const),
  );

  test.each(cases)("%s %s as %s -> %p", async (method, path, caller, outcome) => {
    for (const prefix of path.startsWith("/api/") ? ["/api/v1", "/api"] : [""]) {
      const url = prefix ? `${prefix}${concrete(path).slice("/api".length)}` : concrete(path);
      const headers: Record<string, string> = {
        ...(caller === "anonymous" ? {} : bearer(secured.keyOf[caller])),
        ...(method === "GET" ? {} : { "content-type": "application/json" }),
      };
      const response = await secured.request(url, {
        method,
        headers,
        ...(method === "GET" ? {} : { body: "{}" }),
      });
      const got = response.status === 401 || response.status === 403 ? response.status : "through";
      expect([url, got]).toEqual([url, outcome]);
    }
  });
});

describe("the routes of a whole node", () => {
  test("each has an entry in the table (a route added without one fails here)", async () => {
    // every room that mounts routes on, the ones tests leave off by default too
    // every room on (markets from the simulator only), so their routes are mounted too
    const { node, cleanup } = await startTestNode({
      news: "on",
      market: "on",
      marketSources: "simulator",
      lake: "on",
      features: "on",
      models: "on",
    });
    try {
      const response = await fetch(`${node.apiUrl}/api/v1/admin/routes`);
      expect(response.status).toBe(200);
      const { routes } = (await response.json()) as {
        routes: { method: string; path: string; access: string | null }[];
      };
      expect(routes.length).toBeGreaterThan(40);
      expect(routes.filter((r) => r.access === null)).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
