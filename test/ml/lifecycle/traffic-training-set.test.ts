import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureStore } from "../../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { IOT_FEATURE_VIEWS } from "../../../features/views/iot-views.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import {
  FORECAST_FEATURES,
  forecastTrainingSet,
  type TrafficWindowRow,
} from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { countTrafficWindows, trafficTrainingSet } from "../../../ml/lifecycle/traffic-training-set.ts";
import {
  trafficWindowHistory,
  trafficWindowResult,
  writeGoldWindows,
} from "../../../testkit/traffic-windows.ts";

/**
 * The traffic forecast's training set comes out of the feature store's point-in-time join over
 * the lake's gold windows: each window labelled by its own mean count, its features the sensor's
 * earlier windows as of its start (never itself or a later one), with the lineage and the view
 * statistics a run records.
 */
const WINDOW_MS = 60_000;
const START = Math.floor((Date.now() - 6 * 3600_000) / WINDOW_MS) * WINDOW_MS;

describe("the traffic forecast's point-in-time training set", () => {
  const dir = mkdtempSync(join(tmpdir(), "traffic-set-"));
  const lakeDir = join(dir, "lake");
  let log: Log;
  let store: FeatureStore;
  const history: TrafficWindowRow[] = trafficWindowHistory({
    sensors: 3,
    windows: 40,
    windowMs: WINDOW_MS,
    start: START,
    seed: 5,
  }).map((row) => ({ ...row, readingCount: 6 }));
  // a gap: traffic_1's window 20 never closed
  const gapStart = START + 20 * WINDOW_MS;
  const written = history.filter((w) => !(w.key === "traffic_1" && w.windowStart === gapStart));

  beforeAll(async () => {
    log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
    store = await FeatureStore.open({ log, lakeDir, online: new EmbeddedOnlineStore(":memory:") });
    await store.registerCode(IOT_FEATURE_VIEWS);
  });
  afterAll(async () => {
    await store.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("an empty lake has no labelled rows: a clear TRAINING_DATA_INVALID", async () => {
    expect(await countTrafficWindows(store)).toBe(0);
    await expect(trafficTrainingSet(store)).rejects.toMatchObject({ code: ErrorCodes.TRAINING_DATA_INVALID });
  });

  test("every window after a sensor's first is a row, equal to the as-of rule computed in memory", async () => {
    // two commits, and one window re-emitted later with another value: the latest emission counts
    const half = Math.floor(written.length / 2);
    await writeGoldWindows(
      lakeDir,
      written.slice(0, half).map((w) => trafficWindowResult(w)),
    );
    const replayed = written[half + 5]!;
    await writeGoldWindows(lakeDir, [
      trafficWindowResult({ ...replayed, vehicleCountMean: replayed.vehicleCountMean + 1000 }),
      ...written.slice(half).map((w) => trafficWindowResult(w, w.windowStart + w.windowMs + 5)),
    ]);
    expect(await countTrafficWindows(store)).toBe(written.length);

    const set = await trafficTrainingSet(store);
    const expected = forecastTrainingSet(written, { table: "memory", tableVersion: null, views: [] });
    expect(set.featureNames).toEqual(FORECAST_FEATURES);
    expect(set.rows.length).toBe(written.length - 3);
    const key = (row: ArrayLike<number>, label: number) =>
      JSON.stringify([...Array.from(row, (v) => (Number.isNaN(v) ? "NaN" : v.toFixed(9))), label.toFixed(9)]);
    const got = set.rows.map((row, i) => key(row, set.labels[i]!)).sort();
    const want = expected.rows.map((row, i) => key(row, expected.labels[i]!)).sort();
    expect(got).toEqual(want);
    // the rows are in time order of their label: the holdout is the most recent data
    expect(set.lineage).toEqual({
      table: "gold_sensor_windows",
      tableVersion: 2,
      views: [
        { name: "sensor_traffic_window", version: 1 },
        { name: "district_traffic_hourly", version: 1 },
        { name: "district_environment_hourly", version: 1 },
      ],
    });
  });

  test("no row sees its own window or a later one; a gap joins the window before it", async () => {
    const set = await trafficTrainingSet(store);
    const lag1 = FORECAST_FEATURES.indexOf("vehicle_count_lag1");
    const lag2 = FORECAST_FEATURES.indexOf("vehicle_count_lag2");
    const of = (key: string, start: number) => written.find((w) => w.key === key && w.windowStart === start)!;
    // the window after the gap: lag 1 is the last window that closed before it (19), and so is lag 2
    const after = of("traffic_1", gapStart + WINDOW_MS);
    const i = Array.from(set.labels).indexOf(after.vehicleCountMean);
    expect(i).toBeGreaterThanOrEqual(0);
    const before = of("traffic_1", gapStart - WINDOW_MS);
    expect(set.rows[i]![lag1]).toBe(before.vehicleCountMean);
    expect(set.rows[i]![lag2]).toBe(before.vehicleCountMean);
    for (const [r, row] of set.rows.entries()) expect(row[lag1]).not.toBe(set.labels[r]);
  });

  test("each model feature read from a view names that view version's statistics, stored in the registry", async () => {
    const set = await trafficTrainingSet(store);
    const reference = set.featureReferences?.vehicle_count_lag1;
    expect(reference).toMatchObject({
      view: "sensor_traffic_window",
      version: 1,
      feature: "vehicle_count_mean",
      tableVersion: 2,
    });
    const stored = store.registry.statistics("sensor_traffic_window", 1);
    const mean = stored?.features.find((f) => f.feature === "vehicle_count_mean");
    expect(reference?.quantiles).toEqual(mean!.quantiles);
    expect(reference?.count).toBe(written.length);
    // derived features (time, rolling statistics) have no view reference
    expect(set.featureReferences?.hour_sin).toBeUndefined();
  });

  test("a frame bounded to the newest rows keeps the newest windows", async () => {
    const set = await trafficTrainingSet(store, { maxRows: 30 });
    expect(set.rows.length).toBeLessThanOrEqual(30);
    const newest = Math.max(...written.map((w) => w.windowStart));
    expect(Array.from(set.labels).at(-1)).toBe(
      written.find((w) => w.windowStart === newest && w.key === "traffic_2")!.vehicleCountMean,
    );
  });
});
