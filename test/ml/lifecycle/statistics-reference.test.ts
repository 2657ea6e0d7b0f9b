import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { featureDrift } from "../../../actors/model-shard/model-serving.ts";
import { servedDriftCheck } from "../../../actors/model-shard/served-drift-check.ts";
import { FeatureStore } from "../../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { defineFeatureView } from "../../../features/views/feature-view.ts";
import { IOT_FEATURE_VIEWS, sensorWindowView } from "../../../features/views/iot-views.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { loadModelVersion } from "../../../ml/lifecycle/model-artifacts.ts";
import { trafficTrainingSet } from "../../../ml/lifecycle/traffic-training-set.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { measureDriftAgainstStatistics } from "../../../ml/monitoring/feature-drift.ts";
import { EmbeddedModelRegistry } from "../../../ml/registry/embedded/embedded-model-registry.ts";
import { EmbeddedTrackingStore } from "../../../ml/tracking/embedded/embedded-tracking-store.ts";
import {
  trafficWindowHistory,
  trafficWindowResult,
  writeGoldWindows,
} from "../../../testkit/traffic-windows.ts";

/**
 * Issue 9: the statistics stored per feature view version are the drift reference of every model
 * trained on that version. A model trained on sensor_traffic_window version 1 is monitored
 * against version 1's statistics, also after version 2 exists with other statistics.
 */
const WINDOW_MS = 60_000;
// a fixed morning: the windows' volumes follow the time of day, and the test compares volumes
const START = Date.UTC(2026, 0, 6, 7);
const dir = mkdtempSync(join(tmpdir(), "statistics-reference-"));
const lakeDir = join(dir, "lake");
let log: Log;
let store: FeatureStore;
const tracking = EmbeddedTrackingStore.open({ dir: join(dir, "models") });
const registry = EmbeddedModelRegistry.open({ dir: join(dir, "models") });
const calm = trafficWindowHistory({ sensors: 4, windows: 120, windowMs: WINDOW_MS, start: START, seed: 2 });

beforeAll(async () => {
  log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  store = await FeatureStore.open({ log, lakeDir, online: new EmbeddedOnlineStore(":memory:") });
  await store.registerCode(IOT_FEATURE_VIEWS);
  await writeGoldWindows(
    lakeDir,
    calm.map((w) => trafficWindowResult(w)),
  );
});
afterAll(async () => {
  await store.close();
  await log.close();
  await tracking.close();
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a model trained on view version 1 is monitored against version 1's statistics, not version 2's", async () => {
  const set = await trafficTrainingSet(store);
  const trained = await trainTrackAndRegister(tracking, registry, {
    model: "traffic-forecast",
    experiment: "traffic-forecast",
    set,
    learner: { kind: "gradient-boosting", params: { nTrees: 20, maxDepth: 4, maxBins: 32 } },
    by: "test",
    reason: "trained on view version 1",
  });
  // the set stored version 1's statistics in the registry (_feature_views) as it was built
  await store.registry.refresh();
  const v1 = store.registry.statistics("sensor_traffic_window", 1)!;

  // version 2 of the view (a changed definition), over a table that has since gained 100 vehicles a window
  const definition = sensorWindowView("traffic");
  const v2 = await store.registry.register(
    defineFeatureView({ ...definition, description: `${definition.description} (v2)` }),
  );
  expect(v2.version).toBe(2);
  const busy = trafficWindowHistory({
    sensors: 4,
    windows: 120,
    windowMs: WINDOW_MS,
    start: START + 120 * WINDOW_MS,
    seed: 9,
  }).map((w) => ({
    ...w,
    vehicleCountMean: w.vehicleCountMean + 100,
    vehicleCountMax: w.vehicleCountMax + 100,
  }));
  await writeGoldWindows(
    lakeDir,
    busy.map((w) => trafficWindowResult(w)),
  );
  const v2Statistics = await store.computeStatistics("sensor_traffic_window", 2);

  const loaded = await loadModelVersion(tracking, registry, "traffic-forecast", trained.version.version);
  const reference = loaded.statistics.vehicle_count_lag1!;
  expect(reference).toMatchObject({
    view: "sensor_traffic_window",
    version: 1,
    feature: "vehicle_count_mean",
  });
  const v1Mean = v1.features.find((f) => f.feature === "vehicle_count_mean")!;
  expect(reference.quantiles).toEqual(v1Mean.quantiles);
  expect(reference.tableVersion).toBe(v1.tableVersion);

  // live values like the training data: calm against version 1, drifted against version 2
  const live = calm.map((w) => w.vehicleCountMean);
  const measured = featureDrift(loaded, "vehicle_count_lag1", live)!;
  expect(measured.reference).toBe("sensor_traffic_window@1.vehicle_count_mean");
  expect(measured.drifted).toBe(false);
  const v2Mean = v2Statistics.features.find((f) => f.feature === "vehicle_count_mean")!;
  expect(measureDriftAgainstStatistics("vehicle_count_lag1", v2Mean as never, live)?.drifted).toBe(true);
  // and the busier volumes drift against version 1
  expect(
    featureDrift(
      loaded,
      "vehicle_count_lag1",
      busy.map((w) => w.vehicleCountMean),
    )!.drifted,
  ).toBe(true);

  // the application's drift monitor (drift/<model>) says the same about the version it serves
  const check = servedDriftCheck("traffic-forecast", () => loaded, { sampleSize: 1000, minSampleSize: 100 });
  for (const w of busy) check.observe({ vehicle_count_lag1: w.vehicleCountMean, hour_sin: 0 });
  const reports = check.evaluate(0);
  expect(reports.find((r) => r.feature === "vehicle_count_lag1")).toMatchObject({
    model_version: trained.version.version,
    drift_detected: true,
    sample_size: busy.length,
  });
});
