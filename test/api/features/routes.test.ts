import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { featureRoutes } from "../../../api/features/routes.ts";
import { FeatureStore } from "../../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { defineOnDemandView } from "../../../features/views/on-demand-view.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { TEST_LAKE_TABLE, testTable, testView } from "../../features/feature-fixtures.ts";
import { HostileInput, percentEncode, seededRandom } from "../fuzz-input.ts";

/**
 * /api/features as an attacker sees it: every body and query a client can send gets a success or
 * a 4xx `{"error":{"code","message"}}`, never a 500, a stack or a path of the node.
 */
const dir = mkdtempSync(join(tmpdir(), "feature-routes-"));
let log: Log;
let store: FeatureStore;
let app: Hono;
const logged: unknown[][] = [];
const realConsoleError = console.error;

const plus = defineOnDemandView({
  name: "value_plus",
  sources: ["test_view"],
  request: { plus: "double" },
  features: [{ name: "sum", type: "double" }],
  owner: "tests",
  transform: (features, request) => ({ sum: (features.value as number) + (request.plus as number) }),
});

beforeAll(async () => {
  // a 500 would be logged by the routes' error handler: keep it for the assertions, off the output
  console.error = (...args: unknown[]) => logged.push(args);
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  const lakeDir = join(dir, "lake");
  await testTable(join(lakeDir, "gold", "test_features"), [{ entity: "a", ts: Date.now() - 1000, value: 3 }]);
  store = await FeatureStore.open({
    log,
    lakeDir,
    lakeTables: [TEST_LAKE_TABLE],
    online: new EmbeddedOnlineStore(":memory:"),
    onDemand: [plus],
  });
  await store.registerCode([testView()]);
  app = featureRoutes(store);
});
afterAll(async () => {
  console.error = realConsoleError;
  await store.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: string) {
  const response = await app.request(path, {
    method,
    ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as { error?: { code: string } } };
}

function expectClearError(answer: { status: number; text: string; json: { error?: { code: string } } }) {
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  expect(typeof answer.json.error?.code).toBe("string");
  expect(answer.text).not.toMatch(/\bat .+\(|node_modules|TypeError|\/work\/|stack/);
}

// regression: `null` as the body read `.name` of null and answered 500 INTERNAL with a stack in the log
test("registering a view with a body of null answers 400 FEATURE_VIEW_INVALID, not a 500", async () => {
  const answer = await call("POST", "/views", "null");
  expectClearError(answer);
  expect(answer.json.error?.code).toBe(ErrorCodes.FEATURE_VIEW_INVALID);
  expect(logged).toEqual([]);
});

describe("a view definition of the wrong shape is refused with a clear code", () => {
  const cases: [what: string, body: string, code: string][] = [
    ["null", "null", ErrorCodes.FEATURE_VIEW_INVALID],
    ["a number", "42", ErrorCodes.FEATURE_VIEW_INVALID],
    ["a string", '"test_view"', ErrorCodes.FEATURE_VIEW_INVALID],
    ["an array", '[{"name":"test_view"}]', ErrorCodes.FEATURE_VIEW_INVALID],
    ["no fields", "{}", ErrorCodes.FEATURE_VIEW_INVALID],
    [
      "a path as the name",
      '{"name":"../../etc","entity":"e","source":"x","features":[]}',
      ErrorCodes.FEATURE_VIEW_INVALID,
    ],
    ["a prototype key", '{"__proto__":{"name":"x"}}', ErrorCodes.FEATURE_VIEW_INVALID],
    ["not JSON", "{", ErrorCodes.MALFORMED_JSON],
    ["NaN", '{"name":NaN}', ErrorCodes.MALFORMED_JSON],
    ["deep nesting", `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`, ErrorCodes.FEATURE_VIEW_INVALID],
  ];
  for (const [what, body, code] of cases)
    test(`${what}: ${code}`, async () => {
      const answer = await call("POST", "/views", body);
      expectClearError(answer);
      expect(answer.json.error?.code).toBe(code);
    });
});

describe("online reads with hostile parameters answer 200 or a clear 4xx", () => {
  const many = Array.from({ length: 1001 }, (_, i) => `k${i}`).join(",");
  const cases: [what: string, query: string, status: number][] = [
    ["no view", "", 400],
    ["an unknown view", "view=nope&entities=a", 404],
    ["a prototype name as the view", "view=__proto__&entities=a", 404],
    ["another view's join key", "view=test_view&sensor_id=a", 400],
    ["more entities than allowed", `view=test_view&entities=${many}`, 400],
    ["a version that is not a number", "view=test_view&entities=a&version=1e3", 400],
    ["a feature the view lacks", "view=test_view&entities=a&features=nope", 400],
    ["new entity keys nobody wrote", "view=test_view&entities=x1,x2,x3", 200],
    [
      "a request field named __proto__",
      "view=value_plus&entity_id=a&request.__proto__=1&request.plus=2",
      200,
    ],
    [
      "a request field named constructor",
      "view=value_plus&entity_id=a&request.constructor=1&request.plus=2",
      200,
    ],
    ["a request value that is not a number", "view=value_plus&entity_id=a&request.plus=NaN", 400],
  ];
  for (const [what, query, status] of cases)
    test(`${what}: ${status}`, async () => {
      const answer = await call("GET", `/online?${query}`);
      expect(answer.status).toBe(status);
      if (status >= 400) expectClearError(answer);
    });
});

test("a seeded fuzz of every feature route answers 2xx or a clear 4xx, never a 500", async () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20_261_201);
  const input = new HostileInput(seededRandom(seed));
  const segment = () => percentEncode(input.scalarText().slice(0, 100)) || "x";
  const routes: (() => [string, string])[] = [
    () => ["GET", "/"],
    () => ["GET", `/${segment()}`],
    () => ["GET", `/${input.pick(["test_view", "value_plus", segment()])}/versions/${segment()}`],
    () => ["GET", `/${input.pick(["test_view", segment()])}/statistics`],
    () => ["GET", "/online"],
    () => ["POST", "/views"],
    () => ["POST", `/${input.pick(["test_view", segment()])}/materialize`],
    () => ["POST", `/${input.pick(["test_view", segment()])}/statistics`],
  ];
  const params = [
    "view",
    "entities",
    "entity_id",
    "features",
    "version",
    "q",
    "owner",
    "tag",
    "request.plus",
  ];
  for (let i = 0; i < 250; i++) {
    const [method, route] = input.pick(routes)();
    const query = Array.from(
      { length: input.int(4) },
      () =>
        `${percentEncode(input.pick(params))}=${percentEncode(input.pick(["test_view", "value_plus", "a", input.scalarText().slice(0, 300)]))}`,
    );
    const path = query.length > 0 ? `${route}?${query.join("&")}` : route;
    const body =
      method === "GET"
        ? undefined
        : input.random() < 0.2
          ? input.deepJson(1 + input.int(3000))
          : JSON.stringify(input.json());
    const answer = await call(method, path, body);
    const where = `seed ${seed} case ${i}: ${method} ${path.slice(0, 120)}`;
    expect(answer.status, where).toBeLessThan(500);
    if (answer.status >= 400) expectClearError(answer);
  }
  expect(logged).toEqual([]);
}, 60_000);
