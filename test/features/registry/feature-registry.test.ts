import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureRegistry, type SourceCatalog } from "../../../features/registry/feature-registry.ts";
import { RECORD_VERSION } from "../../../features/registry/registry-records.ts";
import { IOT_FEATURE_VIEWS, TRAFFIC_SPEED_VS_LIMIT } from "../../../features/views/iot-views.ts";
import { roomFeatureViews } from "../../../features/views/room-views.ts";
import type { DeltaField } from "../../../lake/delta/schema.ts";
import { LAKE_TABLES } from "../../../lake/tables/catalogue.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { TEST_TABLE_SCHEMA, testView } from "../feature-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "feature-registry-"));
let log: Log;
let topicSeq = 0;
/** the source schema each test sees; tests change it to play a table whose schema moved */
let schema: DeltaField[] = TEST_TABLE_SCHEMA;

const catalog: SourceCatalog = {
  schema: async (table) =>
    table === "test_features" ? schema : LAKE_TABLES.find((t) => t.name === table)?.schema,
  version: async (table) => (table === "test_features" ? 7 : undefined),
};

beforeAll(async () => {
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
});
afterAll(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

const openRegistry = (topic: string) => FeatureRegistry.open(log, catalog, { topic, now: () => 1000 });
const codeOf = (error: unknown) => (isPlatformError(error) ? error.code : error);

describe("feature registry versions", () => {
  test("the same definition is one version; a changed one is the next; older versions stay readable", async () => {
    const registry = await openRegistry(`fv-${topicSeq++}`);
    const v1 = await registry.register(testView());
    expect(v1.version).toBe(1);
    expect((await registry.register(testView())).version).toBe(1);
    const v2 = await registry.register(testView({ description: "now with a description" }));
    expect(v2.version).toBe(2);
    expect(registry.view("test_view").version).toBe(2);
    expect(registry.view("test_view", 1).definition.description).toBe("");
    expect(registry.versions("test_view").map((v) => v.version)).toEqual([1, 2]);
  });

  test("a definition equal to an older version returns that version", async () => {
    const registry = await openRegistry(`fv-${topicSeq++}`);
    await registry.register(testView());
    await registry.register(testView({ ttlMs: 1000 }));
    expect((await registry.register(testView())).version).toBe(1);
  });

  test("the registry is rebuilt from its topic: versions, lineage and statistics", async () => {
    const topic = `fv-${topicSeq++}`;
    const first = await openRegistry(topic);
    const v1 = await first.register(testView());
    await first.register(testView({ ttlMs: 5 }));
    await first.saveStatistics({
      ...{
        recordVersion: RECORD_VERSION,
        view: "test_view",
        version: 1,
        tableVersion: 7,
        computedAt: 1,
        rows: 0,
      },
      features: [],
    });
    const again = await openRegistry(topic);
    expect(again.versions("test_view").map((v) => [v.version, v.fingerprint])).toEqual([
      [1, v1.fingerprint],
      [2, again.view("test_view", 2).fingerprint],
    ]);
    expect(again.view("test_view", 1).lineage).toEqual({ table: "test_features", tableVersion: 7 });
    expect(again.statistics("test_view", 1)?.tableVersion).toBe(7);
  });

  test("two registries racing on one topic give each definition its own version, and agree", async () => {
    const topic = `fv-${topicSeq++}`;
    const a = await openRegistry(topic);
    const b = await openRegistry(topic);
    const [ra, rb] = await Promise.all([
      a.register(testView({ description: "from a" })),
      b.register(testView({ description: "from b" })),
    ]);
    expect(new Set([ra.version, rb.version])).toEqual(new Set([1, 2]));
    await a.refresh();
    await b.refresh();
    expect(a.versions("test_view").map((v) => v.definition.description)).toEqual(
      b.versions("test_view").map((v) => v.definition.description),
    );
  });

  test("the city's views and the on-demand view register on a fresh lake", async () => {
    const registry = await openRegistry(`fv-${topicSeq++}`);
    for (const view of [...IOT_FEATURE_VIEWS, ...roomFeatureViews({ news: true, market: true })])
      expect((await registry.register(view)).lineage.tableVersion).toBeNull();
    expect((await registry.registerOnDemand(TRAFFIC_SPEED_VS_LIMIT)).version).toBe(1);
  });
});

describe("feature registry refuses what it cannot serve", () => {
  const withColumn = (name: string, type: DeltaField["type"]) =>
    TEST_TABLE_SCHEMA.map((f) => (f.name === name ? { ...f, type } : f));
  const cases: [string, () => unknown, DeltaField[], string][] = [
    [
      "a feature whose column the table lost",
      () => testView(),
      TEST_TABLE_SCHEMA.filter((f) => f.name !== "value"),
      ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
    ],
    [
      "a double feature whose column became a string",
      () => testView(),
      withColumn("value", "string"),
      ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
    ],
    [
      "a long feature over a double column (would lose digits)",
      () => testView({ features: [{ name: "value", type: "long" }] }),
      TEST_TABLE_SCHEMA,
      ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
    ],
    [
      "a timestamp column that is not a time",
      () => testView(),
      withColumn("ts", "long"),
      ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
    ],
    [
      "an entity column that is not a string",
      () => testView(),
      withColumn("entity", "long"),
      ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
    ],
    [
      "a filter on a column the table lacks",
      () => testView({ source: { ...testView().source, where: { region: "x" } } }),
      TEST_TABLE_SCHEMA,
      ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
    ],
    [
      "a table the lake does not have",
      () => testView({ source: { ...testView().source, table: "no_such_table" } }),
      TEST_TABLE_SCHEMA,
      ErrorCodes.FEATURE_VIEW_INVALID,
    ],
    [
      "a definition that is not a view",
      () => ({ name: "Bad Name!", features: [] }),
      TEST_TABLE_SCHEMA,
      ErrorCodes.FEATURE_VIEW_INVALID,
    ],
  ];
  for (const [what, definition, tableSchema, code] of cases)
    test(what, async () => {
      const registry = await openRegistry(`fv-${topicSeq++}`);
      schema = tableSchema;
      try {
        const error = await registry.register(definition() as never).catch((e: unknown) => e);
        expect(codeOf(error)).toBe(code);
      } finally {
        schema = TEST_TABLE_SCHEMA;
      }
      expect(registry.search()).toEqual([]);
    });

  test("a new version may not change the entity nor a kept feature's type", async () => {
    const registry = await openRegistry(`fv-${topicSeq++}`);
    await registry.register(testView());
    const entity = await registry.register(testView({ entity: "other_id" })).catch((e: unknown) => e);
    expect(codeOf(entity)).toBe(ErrorCodes.FEATURE_VIEW_INCOMPATIBLE);
    const retyped = await registry
      .register(testView({ features: [{ name: "count", type: "double" }] }))
      .catch((e: unknown) => e);
    expect(codeOf(retyped)).toBe(ErrorCodes.FEATURE_VIEW_INCOMPATIBLE);
    expect((retyped as Error).message).toContain("count changes type from long to double");
    // dropping a feature and adding one is a compatible new version
    const next = await registry.register(
      testView({
        features: [
          { name: "value", type: "double" },
          { name: "kind", type: "string" },
        ],
      }),
    );
    expect(next.version).toBe(2);
  });

  test("an unknown view or version is FEATURE_VIEW_NOT_FOUND naming what exists", async () => {
    const registry = await openRegistry(`fv-${topicSeq++}`);
    await registry.register(testView());
    expect(codeOf(catching(() => registry.view("nope")))).toBe(ErrorCodes.FEATURE_VIEW_NOT_FOUND);
    const version = catching(() => registry.view("test_view", 9));
    expect(codeOf(version)).toBe(ErrorCodes.FEATURE_VIEW_NOT_FOUND);
    expect((version as Error).message).toContain("versions: 1");
  });
});

describe("feature registry search", () => {
  let registry: FeatureRegistry;
  beforeAll(async () => {
    registry = await openRegistry(`fv-${topicSeq++}`);
    for (const view of IOT_FEATURE_VIEWS) await registry.register(view);
    await registry.registerOnDemand(TRAFFIC_SPEED_VS_LIMIT);
  });
  const cases: [string, Parameters<FeatureRegistry["search"]>[0], string[]][] = [
    [
      "every view and on-demand view, by name",
      {},
      [...IOT_FEATURE_VIEWS.map((v) => v.name), "traffic_speed_vs_limit"].sort(),
    ],
    [
      "by entity",
      { entity: "district" },
      ["district_environment_hourly", "district_traffic_hourly", "district_utility_hourly"],
    ],
    [
      "by tag value",
      { tag: "granularity=window" },
      ["sensor_environment_window", "sensor_traffic_window", "sensor_utility_window"],
    ],
    [
      "by words in names, descriptions and features",
      { q: "speed mean" },
      ["sensor_traffic_window", "traffic_speed_vs_limit"],
    ],
    ["by owner", { owner: "someone-else" }, []],
  ];
  for (const [what, criteria, names] of cases)
    test(what, () => {
      expect(registry.search(criteria).map((s) => s.name)).toEqual(names);
    });
});

function catching(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    return error;
  }
}
