import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UtilityForecaster, utilityWindowRow } from "../../../actors/model-shard/utility-forecaster.ts";
import { FeatureStore } from "../../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { IOT_FEATURE_VIEWS } from "../../../features/views/iot-views.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import type { Prediction } from "../../../messages/prediction.ts";
import type { WindowResult } from "../../../messages/window-result.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { HOUR_MS, UTILITY_FEATURES } from "../../../ml/lifecycle/utility-forecast-features.ts";
import { countUtilityHours, utilityTrainingSet } from "../../../ml/lifecycle/utility-training-set.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { type LifecycleBench, lifecycleBench } from "../../../testkit/model-lifecycle.ts";
import { writeGoldWindows } from "../../../testkit/traffic-windows.ts";

/**
 * The utility forecast: next hour's mean consumption per reading of each utility sensor. Its
 * training set comes from the feature store over the lake's gold windows; the live side sums the
 * same windows as they close, labels each hour's forecast and forecasts the next hour from the
 * same row the training set holds for it.
 */
const WINDOW_MS = 10 * 60_000;
const HOURS = 14;
const START = Math.floor((Date.now() - (HOURS + 2) * HOUR_MS) / HOUR_MS) * HOUR_MS;

function utilityWindows(): WindowResult[] {
  const random = new SeededRandom(4);
  const out: WindowResult[] = [];
  for (let s = 0; s < 3; s++) {
    const base = 50 + 30 * s;
    for (let w = 0; w < (HOURS * HOUR_MS) / WINDOW_MS; w++) {
      const start = START + w * WINDOW_MS;
      const hour = (start % 86_400_000) / HOUR_MS;
      const readings = random.next() < 0.2 ? 5 : 6;
      const mean = base * (1 + 0.5 * Math.sin((2 * Math.PI * hour) / 24)) + random.nextGaussian() * 3;
      const agg = (m: number) => ({ count: readings, sum: m * readings, mean: m, min: m - 2, max: m + 2 });
      out.push({
        scope: "sensor",
        key: `utility_${s}`,
        type: "utility",
        window_start: start,
        window_end: start + WINDOW_MS,
        count: readings,
        fields: { consumption: agg(mean), voltage: agg(230), current: agg(mean / 230) },
        final: true,
        emitted_at: start + WINDOW_MS,
      });
    }
  }
  return out;
}

/** each sensor's hours: mean consumption per reading, a window in the hour it starts in */
function hourlyMeans(windows: readonly WindowResult[]): Map<string, number> {
  const sums = new Map<string, { sum: number; count: number }>();
  for (const w of windows) {
    const id = `${w.key}@${Math.floor(w.window_start / HOUR_MS) * HOUR_MS}`;
    const s = sums.get(id) ?? { sum: 0, count: 0 };
    s.sum += w.fields.consumption!.sum;
    s.count += w.count;
    sums.set(id, s);
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.count]));
}

describe("the utility forecast's training set and live forecasts", () => {
  const dir = mkdtempSync(join(tmpdir(), "utility-set-"));
  const lakeDir = join(dir, "lake");
  const windows = utilityWindows();
  let log: Log;
  let store: FeatureStore;
  let bench: LifecycleBench;

  beforeAll(async () => {
    log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
    store = await FeatureStore.open({ log, lakeDir, online: new EmbeddedOnlineStore(":memory:") });
    await store.registerCode(IOT_FEATURE_VIEWS);
    bench = lifecycleBench();
  });
  afterAll(async () => {
    await bench.close();
    await store.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("too few closed hours is a clear TRAINING_DATA_INVALID", async () => {
    await writeGoldWindows(lakeDir, windows.slice(0, 20));
    expect(await countUtilityHours(store)).toBe(2);
    await expect(utilityTrainingSet(store)).rejects.toMatchObject({ code: ErrorCodes.TRAINING_DATA_INVALID });
  });

  test("each closed hour after a sensor's first is a row: its mean the label, the hours before as features", async () => {
    await writeGoldWindows(lakeDir, windows.slice(20));
    // the last hour of each sensor has no later window: not closed, not a row; the first has no hour before
    expect(await countUtilityHours(store)).toBe(3 * (HOURS - 2));
    const set = await utilityTrainingSet(store);
    expect(set.featureNames).toEqual(UTILITY_FEATURES);
    expect(set.rows).toHaveLength(3 * (HOURS - 2));
    const means = hourlyMeans(windows);
    const col = (name: string) => UTILITY_FEATURES.indexOf(name as (typeof UTILITY_FEATURES)[number]);
    // rows are in time order: the first three are hour 1 of the three sensors
    const hour1 = START + HOUR_MS;
    const labels = [0, 1, 2].map((s) => means.get(`utility_${s}@${hour1}`)!);
    const firstThree = Array.from(set.labels)
      .slice(0, 3)
      .sort((a, b) => a - b);
    for (const [k, label] of [...labels].sort((a, b) => a - b).entries())
      expect(firstThree[k]).toBeCloseTo(label, 9);
    for (let i = 0; i < 3; i++) {
      const s = labels.findIndex((label) => Math.abs(label - set.labels[i]!) < 1e-9);
      expect(set.rows[i]![col("consumption_prev_hour")]).toBeCloseTo(means.get(`utility_${s}@${START}`)!, 9);
      expect(set.rows[i]![col("consumption_hour_before")]).toBeNaN();
      // the last window of the hour before, as the view holds it
      const last = windows.find((w) => w.key === `utility_${s}` && w.window_end === hour1)!;
      expect(set.rows[i]![col("consumption_last_window")]).toBe(last.fields.consumption!.mean);
    }
    expect(set.lineage.views.map((v) => v.name)).toEqual([
      "sensor_utility_window",
      "district_utility_hourly",
      "district_environment_hourly",
    ]);
    expect(set.featureReferences?.consumption_last_window).toMatchObject({
      view: "sensor_utility_window",
      version: 1,
      feature: "consumption_mean",
    });
  });

  test("live, each closed hour labels its forecast and the next hour is forecast from the training set's own row", async () => {
    const set = await utilityTrainingSet(store);
    const trained = await trainTrackAndRegister(bench.tracking, bench.registry, {
      model: "utility-forecast",
      experiment: "utility-forecast",
      set,
      learner: { kind: "gradient-boosting", params: { nTrees: 20, maxDepth: 3, maxBins: 32 } },
      by: "test",
      reason: "first version",
    });
    await bench.serving.deploy(
      "utility-forecast",
      { kind: "single", version: trained.version.version },
      { by: "test", reason: "serve" },
    );
    const published: Prediction[] = [];
    const forecaster = new UtilityForecaster({
      serving: bench.serving,
      model: "utility-forecast",
      publish: (p) => published.push(p),
      now: () => 0,
      hrtimeMs: () => 0,
    });
    // the windows arrive in batches, as the sink delivers them; one replayed batch changes nothing
    const rows = windows.map((w) => utilityWindowRow(w)!).sort((a, b) => a.windowStart - b.windowStart);
    for (let i = 0; i < rows.length; i += 7) await forecaster.closed(rows.slice(i, i + 7));
    await forecaster.closed(rows.slice(0, 7));
    // a forecast for every hour after a closed one (hours 1 .. HOURS - 1), per sensor
    expect(published).toHaveLength(3 * (HOURS - 1));
    expect(new Set(published.map((p) => p.prediction_id)).size).toBe(published.length);
    // the live row of an hour equals the offline row of that hour (missing features are left out)
    const byTarget = new Map(published.map((p) => [`${p.key}@${p.window_start}`, p]));
    let compared = 0;
    set.rows.forEach((row) => {
      // the hour before's mean identifies the sensor and hour (the values are continuous)
      const previous = row[UTILITY_FEATURES.indexOf("consumption_prev_hour")]!;
      const match = [...byTarget.values()].find(
        (p) => Math.abs((p.features.consumption_prev_hour ?? Number.NaN) - previous) < 1e-9,
      );
      if (!match) return;
      UTILITY_FEATURES.forEach((name, j) => {
        if (Number.isFinite(row[j]!)) expect(match.features[name]).toBeCloseTo(row[j]!, 9);
        else expect(match.features[name]).toBeUndefined();
      });
      compared++;
    });
    expect(compared).toBe(set.rows.length);
    // every hour that closed after its forecast was labelled: the live error is known
    const live = bench.serving.liveOf("utility-forecast", trained.version.version)!;
    expect(live.outcomes).toBe(3 * (HOURS - 2));
  });
});
