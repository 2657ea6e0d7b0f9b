/**
 * Training: the project's gradient boosting against scikit-learn's HistGradientBoostingRegressor
 * on the same 100k x 20 training set (80k train, 20k holdout; bench/model-data.ts), same
 * parameters: 100 trees, learning rate 0.1, depth 6 (up to 64 leaves, max_leaf_nodes=None),
 * 20 rows per leaf, L2 1, 255 bins, early stopping off on both sides (scikit-learn's default
 * 'auto' would turn it on above 10,000 rows; ours has none), no row subsampling.
 * scikit-learn runs limited to one thread (threadpoolctl) and with its default threads (OpenMP,
 * one per core: 2 here); ours runs as it trains by default (here two threads: a helper thread
 * builds half of each histogram, ml/tree/histogram-helper.ts) and with one thread. The figure is
 * ours by default, the baseline the faster of the two scikit-learn runs. Targets (issue 10): time <= 1.0x, holdout
 * RMSE within 2%.
 * The machine is shared: each round runs them back to back, medians of ROUNDS rounds are
 * reported, with the load average before and after. scikit-learn with its default threads runs
 * in the first round only: on this loaded 2-core machine its OpenMP threads spin against the
 * other work (115-150 s a run, 25-30x its one-thread time, load average up to 27), so three
 * runs would take minutes of both cores from everyone else for a figure that only says so. Ours is timed in this process (its first
 * round includes the JIT's warm-up); each scikit-learn run is a fresh Python process whose
 * timer covers `fit` only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { trainGradientBoosting } from "../ml/tree/gradient-boosting.ts";
import { evaluateRegression } from "../ml/tree/regression-metrics.ts";
import {
  FEATURES,
  friedmanSet,
  GBT_PARAMS,
  HOLDOUT,
  ROWS,
  type SklearnResult,
  sklearnPeer,
} from "./model-data.ts";
import { median, printFigure } from "./support.ts";

const ROUNDS = 3;
const DEFAULT_THREAD_ROUNDS = 1;
const set = friedmanSet();
const train = ROWS - HOLDOUT;
const rows = Array.from({ length: train }, (_, i) => set.matrix.subarray(i * FEATURES, (i + 1) * FEATURES));
const holdoutLabels = set.labels.subarray(train);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
const loadBefore = load();

const ours: number[] = [];
const oursCpu: number[] = [];
const oursOneThread: number[] = [];
let oursRmse = Number.NaN;
const single: SklearnResult[] = [];
const multi: SklearnResult[] = [];
const dir = mkdtempSync(join(tmpdir(), "model-bench-"));
try {
  for (let round = 0; round < ROUNDS; round++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const model = trainGradientBoosting(
      { rows, labels: set.labels.subarray(0, train) },
      { ...GBT_PARAMS, subsample: 1, seed: 1 },
    );
    ours.push((performance.now() - started) / 1000);
    const cpu = process.cpuUsage(cpuBefore);
    oursCpu.push((cpu.user + cpu.system) / 1e6);
    oursRmse = evaluateRegression(
      holdoutLabels,
      model.predictBatch(set.matrix.subarray(train * FEATURES)),
    ).rmse;
    const startedAlone = performance.now();
    trainGradientBoosting(
      { rows, labels: set.labels.subarray(0, train) },
      { ...GBT_PARAMS, subsample: 1, seed: 1 },
      new Date(),
      { threads: 1 },
    );
    oursOneThread.push((performance.now() - startedAlone) / 1000);
    single.push(await sklearnPeer(set, dir, 1));
    if (round < DEFAULT_THREAD_ROUNDS) multi.push(await sklearnPeer(set, dir, null));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = load();

const seconds = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(" / ");
const oursSeconds = median(ours);
const singleSeconds = median(single.map((r) => r.train_seconds));
const multiSeconds = median(multi.map((r) => r.train_seconds));
const baselineSeconds = Math.min(singleSeconds, multiSeconds);
const baselineName = singleSeconds <= multiSeconds ? "1 thread" : "default threads (2)";
const skRmse = single[0]!.holdout_rmse;
console.log(`load average before ${loadBefore}, after ${loadAfter}; medians of ${ROUNDS} rounds`);
console.log(
  `ours ${seconds(ours)} s (CPU ${seconds(oursCpu)} s; one thread ${seconds(oursOneThread)} s),`,
  `holdout RMSE ${oursRmse.toFixed(4)}`,
  `| scikit-learn 1 thread ${seconds(single.map((r) => r.train_seconds))} s,`,
  `default threads ${seconds(multi.map((r) => r.train_seconds))} s (${multi.length} run), RMSE ${skRmse.toFixed(4)}`,
);
printFigure({
  name: "gbt_training_seconds_100k_x_20",
  value: Number(oursSeconds.toFixed(3)),
  unit: "s",
  baseline: `scikit-learn HistGradientBoostingRegressor, ${baselineName} (the faster here), same data and parameters`,
  baseline_value: Number(baselineSeconds.toFixed(3)),
  ratio: Number((oursSeconds / baselineSeconds).toFixed(3)),
  sklearn_one_thread_s: Number(singleSeconds.toFixed(3)),
  ratio_one_thread: Number((oursSeconds / singleSeconds).toFixed(3)),
  sklearn_default_threads_s: Number(multiSeconds.toFixed(3)),
  ratio_default_threads: Number((oursSeconds / multiSeconds).toFixed(3)),
  ours_one_thread_s: Number(median(oursOneThread).toFixed(3)),
  ratio_ours_one_thread: Number((median(oursOneThread) / singleSeconds).toFixed(3)),
  load_average: loadBefore,
  target: "<= 1.0x",
});
printFigure({
  name: "gbt_holdout_rmse_100k_x_20",
  value: Number(oursRmse.toFixed(4)),
  unit: "rmse",
  baseline: "scikit-learn HistGradientBoostingRegressor, same data and parameters",
  baseline_value: Number(skRmse.toFixed(4)),
  relative: Number((oursRmse / skRmse - 1).toFixed(4)),
  target: "within 2%",
});
