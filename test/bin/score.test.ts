import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { scoreTable } from "../../bin/score.ts";
import { DeltaTable } from "../../lake/delta/delta-table.ts";
import { GOLD_TABLES } from "../../lake/tables/gold.ts";
import { forecastTrainingSet } from "../../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../../ml/lifecycle/train-model.ts";
import { CHAMPION } from "../../ml/registry/model-registry.ts";
import { deltaRsAvailable, readWithDeltaRs } from "../../testkit/delta-rs.ts";
import { lifecycleBench } from "../../testkit/model-lifecycle.ts";
import { trafficWindowHistory } from "../../testkit/traffic-windows.ts";

const b = lifecycleBench();
afterAll(() => b.close());

test("batch scoring forecasts every sensor's next windows from a Delta windows table into a predictions table, once per snapshot", async () => {
  const windows = trafficWindowHistory({ sensors: 3, windows: 300 });
  const set = forecastTrainingSet(windows, { table: "gold_sensor_windows", tableVersion: 0, views: [] });
  await trainTrackAndRegister(b.tracking, b.registry, {
    model: "traffic-forecast",
    experiment: "traffic-forecast",
    set,
    learner: { kind: "gradient-boosting", params: { nTrees: 20, maxDepth: 4, maxBins: 32 } },
    by: "test",
    reason: "batch scoring test",
  });
  await b.registry.setAlias("traffic-forecast", CHAMPION, "1", { by: "test", reason: "setup" });

  const lakeDir = join(b.dir, "lake");
  const spec = GOLD_TABLES.find((t) => t.name === "gold_sensor_windows")!;
  const source = await DeltaTable.create(join(lakeDir, spec.name), {
    name: spec.name,
    schema: [...spec.schema],
    partitionColumns: [...(spec.partitionColumns ?? [])],
  });
  await source.append(
    windows.map((w) => ({
      window_id: `${w.key}:${w.windowStart}`,
      scope: "sensor",
      key: w.key,
      window_start: w.windowStart,
      window_end: w.windowStart + w.windowMs,
      count: 10,
      vehicle_count_mean: w.vehicleCountMean,
      vehicle_count_max: w.vehicleCountMax,
      avg_speed_mean: w.avgSpeedMean,
      emitted_at: w.windowStart + w.windowMs,
      date: new Date(w.windowStart).toISOString().slice(0, 10),
      type: "traffic",
    })),
  );

  const first = await scoreTable({
    lakeDir,
    tracking: b.tracking,
    registry: b.registry,
    model: "traffic-forecast",
  });
  // every run of three consecutive windows forecasts the next: 300 - 2 per sensor
  expect(first).toMatchObject({ rows: 3 * 298, skipped: false, modelVersion: "1" });
  const again = await scoreTable({
    lakeDir,
    tracking: b.tracking,
    registry: b.registry,
    model: "traffic-forecast",
  });
  expect(again.skipped).toBe(true);

  const target = await DeltaTable.open(join(lakeDir, "gold_batch_predictions"));
  const rows = await target.readRows();
  expect(rows).toHaveLength(3 * 298);
  expect(new Set(rows.map((r) => r.prediction_id)).size).toBe(rows.length);
  if (deltaRsAvailable()) {
    const read = await readWithDeltaRs(join(lakeDir, "gold_batch_predictions"));
    expect(read.rows).toHaveLength(3 * 298);
  }
}, 60_000);
