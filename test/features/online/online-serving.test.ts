import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { OnlineFeatureServer } from "../../../features/online/online-serving.ts";
import { FeatureRegistry } from "../../../features/registry/feature-registry.ts";
import { defineOnDemandView } from "../../../features/views/on-demand-view.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { TEST_TABLE_SCHEMA, testView } from "../feature-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "online-serving-"));
const NOW = Date.UTC(2026, 5, 1, 12);
let log: Log;
let registry: FeatureRegistry;
let store: EmbeddedOnlineStore;
const doubled = (factor: number) =>
  defineOnDemandView({
    name: "doubled",
    sources: ["test_view"],
    request: { factor: "double" },
    features: [{ name: "scaled", type: "double" }],
    owner: "tests",
    transform: (features, request) => ({
      scaled:
        typeof features.value === "number" ? features.value * (request.factor as number) * factor : null,
    }),
  });

beforeAll(async () => {
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  registry = await FeatureRegistry.open(log, {
    schema: async () => TEST_TABLE_SCHEMA,
    version: async () => 1,
  });
  await registry.register(testView({ ttlMs: 60_000 }));
  await registry.registerOnDemand(doubled(1));
  store = new EmbeddedOnlineStore(join(dir, "online.db"));
  await store.write({ name: "test_view", version: 1 }, [
    { entity: "fresh", eventTime: NOW - 1000, createdTime: NOW, values: { value: 2, count: 3 } },
    { entity: "old", eventTime: NOW - 120_000, createdTime: NOW, values: { value: 5, count: 1 } },
  ]);
});
afterAll(async () => {
  await store.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

test("each entity gets Feast's status: present, not found, outside max age", async () => {
  const server = new OnlineFeatureServer(registry, store);
  const result = await server.read({ view: "test_view", entities: ["fresh", "never", "old"], now: NOW });
  expect(result.results.map((r) => [r.entity, r.status, r.values.value])).toEqual([
    ["fresh", "PRESENT", 2],
    ["never", "NOT_FOUND", null],
    ["old", "OUTSIDE_MAX_AGE", null],
  ]);
  const some = await server.read({ view: "test_view", entities: ["fresh"], features: ["count"], now: NOW });
  expect(some.results[0]?.values).toEqual({ count: 3 });
});

test("an on-demand view computes from stored features and the request", async () => {
  const server = new OnlineFeatureServer(registry, store, new Map([["doubled", doubled(1)]]));
  const result = await server.read({
    view: "doubled",
    entities: ["fresh", "never"],
    request: { factor: "1.5" },
    now: NOW,
  });
  expect(result.results.map((r) => [r.status, r.values.scaled])).toEqual([
    ["PRESENT", 3],
    ["NOT_FOUND", null],
  ]);
});

test("a node whose transform differs from the registered one refuses to compute", async () => {
  const other = defineOnDemandView({
    ...doubled(1).description,
    transform: (features) => ({ scaled: features.value ?? null }),
  });
  const server = new OnlineFeatureServer(registry, store, new Map([["doubled", other]]));
  const error = await server
    .read({ view: "doubled", entities: ["fresh"], request: { factor: 1 }, now: NOW })
    .catch((e: unknown) => e);
  expect(isPlatformError(error, ErrorCodes.FEATURE_VIEW_INCOMPATIBLE)).toBe(true);
});

const refusals: [string, Parameters<OnlineFeatureServer["read"]>[0], string][] = [
  ["no entity", { view: "test_view", entities: [] }, ErrorCodes.BAD_REQUEST],
  ["an empty entity key", { view: "test_view", entities: [""] }, ErrorCodes.BAD_REQUEST],
  [
    "a key longer than 256 characters",
    { view: "test_view", entities: ["x".repeat(257)] },
    ErrorCodes.BAD_REQUEST,
  ],
  [
    "more than 1,000 entities",
    { view: "test_view", entities: Array(1001).fill("x") },
    ErrorCodes.OUT_OF_RANGE,
  ],
  ["an unknown view", { view: "nope", entities: ["a"] }, ErrorCodes.FEATURE_VIEW_NOT_FOUND],
  [
    "an unknown version",
    { view: "test_view", version: 3, entities: ["a"] },
    ErrorCodes.FEATURE_VIEW_NOT_FOUND,
  ],
  [
    "a feature the view lacks",
    { view: "test_view", entities: ["a"], features: ["nope"] },
    ErrorCodes.FEATURE_MISSING,
  ],
  [
    "an on-demand request field it does not take",
    { view: "doubled", entities: ["a"], request: { factor: 1, x: 2 } },
    ErrorCodes.BAD_REQUEST,
  ],
  [
    "an on-demand request field missing",
    { view: "doubled", entities: ["a"], request: {} },
    ErrorCodes.BAD_REQUEST,
  ],
];
for (const [what, request, code] of refusals)
  test(`${what} is refused with ${code}`, async () => {
    const server = new OnlineFeatureServer(registry, store, new Map([["doubled", doubled(1)]]));
    const error = await server.read(request).catch((e: unknown) => e);
    expect(isPlatformError(error) ? error.code : error).toBe(code);
  });
