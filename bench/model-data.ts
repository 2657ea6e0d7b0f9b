import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SeededRandom } from "../ml/tree/random.ts";
import { VENV_PYTHON } from "../testkit/delta-rs.ts";

/**
 * Shared by the model benchmarks (not a benchmark itself: bench/run.ts skips it): the training
 * set both learners see, and the scikit-learn peer. A 20-feature Friedman #1 (five informative features, fifteen noise ones, Gaussian noise),
 * row-major float64 files handed to Python as they are.
 */
export const ROWS = 100_000;
export const FEATURES = 20;
export const HOLDOUT = 20_000;

export interface BenchSet {
  readonly matrix: Float64Array;
  readonly labels: Float64Array;
}

export function friedmanSet(seed = 1): BenchSet {
  const random = new SeededRandom(seed);
  const matrix = new Float64Array(ROWS * FEATURES);
  const labels = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    for (let j = 0; j < FEATURES; j++) matrix[i * FEATURES + j] = random.next();
    const x = (j: number) => matrix[i * FEATURES + j]!;
    labels[i] =
      10 * Math.sin(Math.PI * x(0) * x(1)) +
      20 * (x(2) - 0.5) ** 2 +
      10 * x(3) +
      5 * x(4) +
      random.nextGaussian();
  }
  return { matrix, labels };
}

export const GBT_PARAMS = {
  nTrees: 100,
  learningRate: 0.1,
  maxDepth: 6,
  minSamplesLeaf: 20,
  l2: 1,
  maxBins: 255,
} as const;

export interface SklearnResult {
  readonly train_seconds: number;
  readonly holdout_rmse: number;
  readonly predict_rows_per_second: number;
  readonly threads: number | null;
}

/** `threads`: OpenMP threads for scikit-learn; null leaves its default (one per core). */
export async function sklearnPeer(
  set: BenchSet,
  dir: string,
  threads: number | null = 1,
): Promise<SklearnResult> {
  const x = join(dir, "x.f64");
  const y = join(dir, "y.f64");
  writeFileSync(x, new Uint8Array(set.matrix.buffer));
  writeFileSync(y, new Uint8Array(set.labels.buffer));
  const child = Bun.spawn([VENV_PYTHON, join(import.meta.dir, "../testkit/python/sklearn_bench.py")], {
    stdin: new TextEncoder().encode(
      JSON.stringify({ x, y, rows: ROWS, features: FEATURES, holdout: HOLDOUT, params: GBT_PARAMS, threads }),
    ),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`scikit-learn peer failed (${code}): ${err.trim().slice(-500)}`);
  return JSON.parse(out) as SklearnResult;
}
