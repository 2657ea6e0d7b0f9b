import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computeStatistics } from "../../features/statistics.ts";
import { registered, testTable, testView } from "./feature-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "feature-stats-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("statistics count, nulls, mean, stddev, extremes and quantiles per feature, at the table's version", async () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const table = await testTable(join(dir, "t"), [
    ...values.map((value, i) => ({ entity: `e${i}`, ts: 1000 + i, value, count: i % 2 === 0 ? i : null })),
    // a tie: only the later created row of (e0, 1000) counts
    { entity: "e0", ts: 1000, created: 2000, value: 100, count: 0 },
  ]);
  const view = registered(testView());
  const stats = await computeStatistics(view, await table.snapshot(), 42);
  expect(stats).toMatchObject({ view: "test_view", version: 1, tableVersion: 1, computedAt: 42, rows: 10 });
  const value = stats.features.find((f) => f.feature === "value")!;
  const withTie = [100, ...values.slice(1)];
  const mean = withTie.reduce((a, b) => a + b, 0) / 10;
  expect(value).toMatchObject({ count: 10, nulls: 0, min: 2, max: 100, distinct: 10 });
  expect(value.mean).toBeCloseTo(mean, 10);
  expect(value.quantiles?.p50).toBeCloseTo(6.5, 10);
  const count = stats.features.find((f) => f.feature === "count")!;
  expect(count).toMatchObject({ count: 5, nulls: 5, min: 0, max: 8 });
});

test("a view whose table was never written has empty statistics, not an error", async () => {
  const stats = await computeStatistics(registered(testView()), undefined);
  expect(stats.rows).toBe(0);
  expect(stats.features.every((f) => f.count === 0 && f.mean === null && f.quantiles === null)).toBe(true);
});
