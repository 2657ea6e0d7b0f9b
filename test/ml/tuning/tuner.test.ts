import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forecastTrainingSet } from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { EmbeddedModelRegistry } from "../../../ml/registry/embedded/embedded-model-registry.ts";
import { EmbeddedTrackingStore } from "../../../ml/tracking/embedded/embedded-tracking-store.ts";
import { sampleCandidates } from "../../../ml/tuning/search-space.ts";
import { successiveHalving } from "../../../ml/tuning/successive-halving.ts";
import { tuneAndRegister } from "../../../ml/tuning/tuner.ts";
import { trafficWindowHistory } from "../../../testkit/traffic-windows.ts";

const dir = mkdtempSync(join(tmpdir(), "tuner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("successive halving keeps the best third each rung and gives the survivors three times the trees", () => {
  const candidates = sampleCandidates(9, 1);
  // a loss that only depends on the candidate: the halving must keep the lowest ones
  const loss = (id: number) => (id * 7) % 9;
  const { trials, best } = successiveHalving(candidates, (c) => loss(c.id), {
    minResource: 10,
    maxResource: 90,
    eta: 3,
    deadline: Number.POSITIVE_INFINITY,
    now: () => 0,
  });
  expect(trials.filter((t) => t.rung === 0).length).toBe(9);
  expect(trials.filter((t) => t.rung === 1).map((t) => [loss(t.candidate.id), t.resource])).toEqual([
    [0, 30],
    [1, 30],
    [2, 30],
  ]);
  expect(trials.filter((t) => t.rung === 2).map((t) => t.resource)).toEqual([90]);
  expect(best?.candidate.id).toBe(0);
});

test("a search past its deadline starts no more trials and returns the best so far", () => {
  let clock = 0;
  const { trials } = successiveHalving(
    sampleCandidates(9, 2),
    () => {
      clock += 10;
      return 1;
    },
    { minResource: 10, maxResource: 90, deadline: 35, now: () => clock },
  );
  expect(trials.length).toBe(4);
});

test("tuning runs its trials on a worker, logs each as a nested run and registers the best", async () => {
  const tracking = EmbeddedTrackingStore.open({ dir });
  const registry = EmbeddedModelRegistry.open({ dir });
  const set = forecastTrainingSet(trafficWindowHistory({ sensors: 6, windows: 400, seed: 3 }), {
    table: "gold_traffic_windows",
    tableVersion: 1,
    views: [],
  });
  // the main thread stays free while the worker trains: a timer keeps ticking
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  const result = await tuneAndRegister(tracking, registry, {
    model: "traffic-tuned",
    experiment: "traffic-tuning",
    set,
    candidates: 6,
    kinds: ["gradient-boosting", "random-forest"],
    budgetMs: 60_000,
    minTrees: 5,
    maxTrees: 45,
    by: "test",
    reason: "tuning test",
  });
  clearInterval(ticker);
  expect(ticks).toBeGreaterThan(0);
  const children = await tracking.searchRuns((await tracking.experimentByName("traffic-tuning"))!.id, {
    parentRunId: result.parentRunId,
  });
  // every trial plus the registered retrain of the best
  expect(children.length).toBe(result.trials + 1);
  expect(result.trials).toBe(6 + 2 + 1);
  const parent = await tracking.getRun(result.parentRunId);
  expect(parent.info.status).toBe("FINISHED");
  expect(parent.metrics.best_holdout_rmse?.value).toBe(result.best.loss);
  expect(result.registered.version.version).toBe("1");
  expect(result.registered.holdout.rmse).toBeCloseTo(result.best.loss, 6);
  await tracking.close();
  await registry.close();
}, 120_000);
