import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { observeCount, observeModelVersions } from "../../../api/models/model-metrics.ts";

/** The models' gauges follow what serves at each scrape; a figure with no value has no sample. */
test("each figure is a gauge per (model, version), read at the scrape; a version gone leaves its series", async () => {
  const registry = new Registry();
  let versions: [string, string, { rows: number; auc: number }][] = [
    ["m", "1", { rows: 5, auc: Number.NaN }],
    ["m", "2", { rows: 7, auc: 0.6 }],
  ];
  observeModelVersions(
    registry,
    [
      ["test_rows", "rows", (f) => f.rows],
      ["test_auc", "auc", (f) => (Number.isFinite(f.auc) ? f.auc : undefined)],
    ],
    () => versions,
  );
  const first = await registry.metrics();
  expect(first).toContain('test_rows{model="m",version="1"} 5');
  expect(first).toContain('test_rows{model="m",version="2"} 7');
  expect(first).toContain('test_auc{model="m",version="2"} 0.6');
  expect(first).not.toContain('test_auc{model="m",version="1"}');
  versions = [["m", "2", { rows: 8, auc: 0.7 }]];
  const second = await registry.metrics();
  expect(second).not.toContain('version="1"');
  expect(second).toContain('test_rows{model="m",version="2"} 8');
});

test("a count is read at each scrape", async () => {
  const registry = new Registry();
  let failures = 0;
  observeCount(registry, "test_failures", "failures", () => failures);
  failures = 3;
  expect(await registry.metrics()).toContain("test_failures 3");
});
