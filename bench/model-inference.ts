/**
 * Inference, two figures:
 *  1. rows/s of the project's ensemble scoring a 20k-row batch, against scikit-learn's `predict`
 *     on one thread, both models trained on the same 100k x 20 set with the same parameters
 *     (100 trees, depth 6; bench/model-data.ts). Best of 5 runs each. Target: >= the baseline.
 *  2. online predict p99 for one row through a whole node's API (gateway, routing, the version
 *     shard, the answer): 2,000 sequential POST /api/models/:name/predict on loopback, after 200
 *     warm-up calls; the baseline is the same node's GET /health, the floor of a round trip.
 *     Target: p99 <= 5 ms.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forecastTrainingSet } from "../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../ml/lifecycle/train-model.ts";
import { EmbeddedModelRegistry } from "../ml/registry/embedded/embedded-model-registry.ts";
import { CHAMPION } from "../ml/registry/model-registry.ts";
import { EmbeddedTrackingStore } from "../ml/tracking/embedded/embedded-tracking-store.ts";
import { trainGradientBoosting } from "../ml/tree/gradient-boosting.ts";
import { loadNodeConfig } from "../node/config.ts";
import { startNode } from "../node/start-node.ts";
import { trafficWindowHistory } from "../testkit/traffic-windows.ts";
import { FEATURES, friedmanSet, GBT_PARAMS, HOLDOUT, ROWS, sklearnPeer } from "./model-data.ts";
import { printFigure, quantile } from "./support.ts";

const set = friedmanSet();
const train = ROWS - HOLDOUT;
const rows = Array.from({ length: train }, (_, i) => set.matrix.subarray(i * FEATURES, (i + 1) * FEATURES));
const model = trainGradientBoosting(
  { rows, labels: set.labels.subarray(0, train) },
  { ...GBT_PARAMS, seed: 1 },
);
const batch = set.matrix.slice(train * FEATURES);
const out = new Float64Array(HOLDOUT);
let best = Number.POSITIVE_INFINITY;
for (let run = 0; run < 5; run++) {
  const started = performance.now();
  model.predictBatch(batch, out);
  best = Math.min(best, performance.now() - started);
}
const oursRowsPerSecond = HOLDOUT / (best / 1000);
const dir = mkdtempSync(join(tmpdir(), "model-inference-"));
try {
  const peer = await sklearnPeer(set, dir, 1);
  console.log(
    `batch scoring: ours ${Math.round(oursRowsPerSecond)} rows/s, scikit-learn ${Math.round(peer.predict_rows_per_second)} rows/s`,
  );
  printFigure({
    name: "gbt_predict_rows_per_second",
    value: Math.round(oursRowsPerSecond),
    unit: "rows/s",
    baseline: "scikit-learn HistGradientBoostingRegressor.predict, 1 thread, same model size",
    baseline_value: Math.round(peer.predict_rows_per_second),
    ratio: Number((oursRowsPerSecond / peer.predict_rows_per_second).toFixed(3)),
    target: ">= 1.0x",
  });

  // a node whose registry already holds a champion: it serves it from the start
  const dataDir = join(dir, "node");
  const tracking = EmbeddedTrackingStore.open({ dir: join(dataDir, "models") });
  const registry = EmbeddedModelRegistry.open({ dir: join(dataDir, "models") });
  const trafficSet = forecastTrainingSet(trafficWindowHistory({ sensors: 6, windows: 1500 }), {
    table: "bench",
    tableVersion: 1,
    views: [],
  });
  await trainTrackAndRegister(tracking, registry, {
    model: "traffic-forecast",
    experiment: "traffic-forecast",
    set: trafficSet,
    learner: { kind: "gradient-boosting", params: { nTrees: 120, maxDepth: 6, maxBins: 64 } },
    by: "bench",
    reason: "inference benchmark",
  });
  await registry.setAlias("traffic-forecast", CHAMPION, "1", { by: "bench", reason: "inference benchmark" });
  await tracking.close();
  await registry.close();
  const node = await startNode(
    loadNodeConfig({}, [], {
      ...{ port: 0, host: "127.0.0.1", mqttPort: 0, dataDir, simulate: false, progress: false, workers: 0 },
      ...{ news: "off", market: "off", lake: "off", features: "off", models: "on" },
      // the benchmark is one client measuring latency, not the gateway's rate limit
      ...{ rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 },
    }),
  );
  try {
    const body = JSON.stringify({ row: Array.from(trafficSet.rows[0]!) });
    const call = async () => {
      const response = await fetch(`${node.apiUrl}/api/models/traffic-forecast/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      if (response.status !== 200)
        throw new Error(`predict answered ${response.status}: ${await response.text()}`);
      await response.json();
    };
    const health = async () => {
      const response = await fetch(`${node.apiUrl}/health`);
      await response.text();
    };
    const time = async (fn: () => Promise<void>, n: number) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        await fn();
        samples.push(performance.now() - started);
      }
      return samples;
    };
    await time(call, 200);
    await time(health, 200);
    const predictMs = await time(call, 2000);
    const healthMs = await time(health, 2000);
    const p99 = quantile(predictMs, 0.99);
    console.log(
      `online predict: p50 ${quantile(predictMs, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; GET /health p99 ${quantile(healthMs, 0.99).toFixed(2)} ms`,
    );
    printFigure({
      name: "online_predict_p99_ms",
      value: Number(p99.toFixed(3)),
      unit: "ms",
      baseline: "GET /health on the same node (a round trip's floor)",
      baseline_value: Number(quantile(healthMs, 0.99).toFixed(3)),
      p50: Number(quantile(predictMs, 0.5).toFixed(3)),
      target: "<= 5 ms",
    });
  } finally {
    await node.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
