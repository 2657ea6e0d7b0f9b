import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPlatformError } from "../../../messages/errors.ts";
import { sigmoid } from "../../../ml/tree/boosting-loss.ts";
import { evaluateClassification } from "../../../ml/tree/classification-metrics.ts";
import { type GradientBoostingParams, trainGradientBoosting } from "../../../ml/tree/gradient-boosting.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { TreeEnsemble } from "../../../ml/tree/tree-ensemble.ts";
import { deltaRsAvailable, VENV_PYTHON } from "../../../testkit/delta-rs.ts";

/**
 * The log-loss hook of the gradient boosting: a binary classifier whose output is P(1), held
 * against scikit-learn's HistGradientBoostingClassifier (shared venv) trained with the same
 * parameters on the same seeded rows.
 */
const ROWS = 8_000;
const HOLDOUT = 2_000;
const FEATURES = 8;

/** log-odds a smooth non-linear function of 5 of 8 features, some values missing; labels drawn */
function classificationSet(seed: number) {
  const random = new SeededRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const x = Array.from({ length: FEATURES }, () => random.next() * 2 - 1);
    const logOdds = 2.5 * Math.sin(Math.PI * x[0]! * x[1]!) + 2 * (x[2]! - 0.3) ** 2 - 1.5 * x[3]! + x[4]!;
    labels.push(random.next() < sigmoid(logOdds) ? 1 : 0);
    if (random.next() < 0.05) x[5] = Number.NaN;
    rows.push(x);
  }
  return { rows, labels };
}

const PARAMS = {
  nTrees: 100,
  learningRate: 0.1,
  maxDepth: 4,
  minSamplesLeaf: 20,
  l2: 1,
  maxBins: 255,
  loss: "log-loss",
} satisfies GradientBoostingParams;

async function sklearn(rows: number[][], labels: number[]): Promise<{ log_loss: number; auc: number }> {
  if (!deltaRsAvailable())
    throw new Error(`the shared venv is missing (${VENV_PYTHON}): run bash infra/python.sh`);
  const dir = mkdtempSync(join(tmpdir(), "sklearn-classifier-"));
  try {
    await Bun.write(join(dir, "x.bin"), Float64Array.from(rows.flat()));
    await Bun.write(join(dir, "y.bin"), Float64Array.from(labels));
    const job = {
      x: join(dir, "x.bin"),
      y: join(dir, "y.bin"),
      rows: ROWS,
      features: FEATURES,
      holdout: HOLDOUT,
      params: PARAMS,
    };
    const child = Bun.spawn(
      [VENV_PYTHON, join(import.meta.dir, "../../../testkit/python/sklearn_classifier.py")],
      {
        stdin: new TextEncoder().encode(JSON.stringify(job)),
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, OMP_NUM_THREADS: "1" },
      },
    );
    const [out, err, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    if (code !== 0) throw new Error(`sklearn_classifier.py failed (${code}): ${err.trim()}`);
    return JSON.parse(out) as { log_loss: number; auc: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the log-loss classifier's holdout log loss and AUC are within a small margin of scikit-learn's", async () => {
  const { rows, labels } = classificationSet(7);
  const cut = ROWS - HOLDOUT;
  const model = trainGradientBoosting({ rows: rows.slice(0, cut), labels: labels.slice(0, cut) }, PARAMS);
  const ours = evaluateClassification(labels.slice(cut), model.predictBatch(rows.slice(cut)));
  const peer = await sklearn(rows, labels);
  // the data are noisy by construction (labels drawn from the probability): the best possible
  // log loss is far from 0, so a relative margin on it is a fair, tight comparison
  expect(ours.logLoss).toBeLessThan(peer.log_loss * 1.02);
  expect(ours.auc).toBeGreaterThan(peer.auc - 0.01);
  // and it learnt something: far better than the base rate
  expect(ours.auc).toBeGreaterThan(0.75);
}, 60_000);

test("a classifier's outputs are probabilities and survive a save and a load", () => {
  const { rows, labels } = classificationSet(3);
  const model = trainGradientBoosting(
    { rows: rows.slice(0, 2000), labels: labels.slice(0, 2000) },
    {
      ...PARAMS,
      nTrees: 20,
    },
  );
  const out = model.predictBatch(rows.slice(2000, 2500));
  for (const p of out) {
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  }
  const loaded = TreeEnsemble.fromJSON(JSON.stringify(model.toJSON()));
  expect(loaded.predictBatch(rows.slice(2000, 2500))).toEqual(out);
  expect(loaded.predict(rows[2000]!)).toBe(out[0]!);
});

test("with no tree the classifier answers the base rate", () => {
  const labels = [1, 1, 1, 0];
  const model = trainGradientBoosting(
    { rows: labels.map((_, i) => [i]), labels },
    { ...PARAMS, nTrees: 1, maxDepth: 1, minSamplesLeaf: 4 },
  );
  expect(model.predict([0])).toBeCloseTo(0.75, 12);
});

const badLabels: Array<[string, number[]]> = [
  ["a label of 2", [0, 1, 2, 1]],
  ["a label of -1", [0, -1, 1, 1]],
  ["a fractional label", [0, 0.5, 1, 1]],
];

for (const [name, labels] of badLabels) {
  test(`log loss refuses ${name} as TRAINING_DATA_INVALID`, () => {
    let caught: unknown;
    try {
      trainGradientBoosting({ rows: labels.map((_, i) => [i]), labels }, PARAMS);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, "TRAINING_DATA_INVALID")).toBe(true);
  });
}

test("a regressor saved before the hook scores as before: no loss in its parameters, raw output", () => {
  const rows = Array.from({ length: 200 }, (_, i) => [i / 10]);
  const labels = rows.map(([x]) => 3 * x! - 2);
  const model = trainGradientBoosting({ rows, labels }, { nTrees: 10 });
  expect(model.params.loss).toBeUndefined();
  expect(model.predict([10])).toBeGreaterThan(1);
});
