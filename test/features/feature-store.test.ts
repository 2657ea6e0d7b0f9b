import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureStore } from "../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../features/online/embedded-online-store.ts";
import { defineOnDemandView } from "../../features/views/on-demand-view.ts";
import { openLog } from "../../log/index.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { TEST_LAKE_TABLE, testTable, testView } from "./feature-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "feature-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onDemand = defineOnDemandView({
  name: "value_plus",
  sources: ["test_view"],
  request: { plus: "double" },
  features: [{ name: "sum", type: "double" }],
  owner: "tests",
  transform: (features, request) => ({ sum: (features.value as number) + (request.plus as number) }),
});

// regression: an operator's version the node's code cannot follow must not stop the node's start
test("a code view the registry refuses is reported and skipped; the other views register", async () => {
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  const open = () =>
    FeatureStore.open({
      log,
      lakeDir: join(dir, "lake"),
      lakeTables: [TEST_LAKE_TABLE],
      online: new EmbeddedOnlineStore(":memory:"),
      onDemand: [onDemand],
    });
  const operator = await open();
  // the operator's version has `count` as a long; the code below reads the same column as a double
  await operator.registry.register(testView());
  const refused: [string, string][] = [];
  const node = await open();
  const registered = await node.registerCode(
    [testView({ features: [{ name: "count", type: "double" }] }), testView({ name: "other_view" })],
    (view, error) => refused.push([view, error.code]),
  );
  expect(registered.map((v) => v.name)).toEqual(["other_view"]);
  expect(refused).toEqual([["test_view", ErrorCodes.FEATURE_VIEW_INCOMPATIBLE]]);
  await operator.close();
  await node.close();
  await log.close();
});

test("a training set names each view version's statistics, its drift reference", async () => {
  const log = await openLog({ kind: "embedded", path: join(dir, "log2.db") });
  const lakeDir = join(dir, "lake2");
  await testTable(join(lakeDir, "gold", "test_features"), [
    { entity: "a", ts: Date.now() - 1000, value: 3 },
    { entity: "b", ts: Date.now() - 2000, value: 5 },
  ]);
  const store = await FeatureStore.open({
    ...{ log, lakeDir, lakeTables: [TEST_LAKE_TABLE], online: new EmbeddedOnlineStore(":memory:") },
  });
  await store.registerCode([testView()]);
  const statistics = await store.computeStatistics("test_view");
  const set = await store.trainingSet({
    views: ["test_view@1"],
    entities: { rows: [{ entity_id: "a", event_timestamp: Date.now() }] },
  });
  expect(set.rows?.[0]?.value).toBe(3);
  expect(set.references).toEqual([{ view: "test_view", version: 1, statistics }]);
  expect(set.lineage.views[0]).toMatchObject({ name: "test_view", version: 1, tableVersion: 1 });
  await store.close();
  await log.close();
});
