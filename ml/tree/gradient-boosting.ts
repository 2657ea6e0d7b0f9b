import { z } from "zod";
import { binTrainingSet, MAX_BINS } from "./binning.ts";
import { boostingLoss } from "./boosting-loss.ts";
import { parseParams } from "./config-parse.ts";
import { SeededRandom } from "./random.ts";
import { packTrainingSet, type TrainingSet } from "./training-set.ts";
import { NodeList, TreeBuilder } from "./tree-builder.ts";
import { TreeEnsemble } from "./tree-ensemble.ts";

export const gradientBoostingParamsSchema = z.object({
  nTrees: z.number().int().min(1).max(10_000).default(100),
  learningRate: z.number().gt(0).max(1).default(0.1),
  maxDepth: z.number().int().min(1).max(30).default(6),
  minSamplesLeaf: z.number().int().min(1).default(5),
  /** Fraction of rows drawn (without replacement) for each tree: stochastic gradient boosting. */
  subsample: z.number().gt(0).max(1).default(1),
  /** L2 penalty on leaf values (XGBoost's lambda). */
  l2: z.number().min(0).default(1),
  maxBins: z.number().int().min(2).max(MAX_BINS).default(255),
  featureFraction: z.number().gt(0).max(1).default(1),
  minGain: z.number().min(0).default(0),
  seed: z.number().int().default(42),
  /** squared error (regression) when absent; log-loss: a binary classifier whose output is P(1) */
  loss: z.enum(["squared-error", "log-loss"]).optional(),
});
export type GradientBoostingParams = z.input<typeof gradientBoostingParamsSchema>;

/**
 * Sampled rows x features from which a second thread builds half of each histogram: below it,
 * the thread's start (5-15 ms) and hand-overs weigh more than the half they save.
 */
const HELPER_MIN_VALUES = 500_000;

/** How to train, not what: never part of the model, never changes it. */
export interface TrainingOptions {
  /**
   * Threads building the histograms: 1, or 2 (a helper thread, histogram-helper.ts; 1 all the
   * same when its shared histograms would pass tree-builder.ts' HELPER_ARENA_BYTES). Default:
   * 2 from HELPER_MIN_VALUES sampled values on a machine with two cores or more, else 1.
   */
  readonly threads?: 1 | 2;
}

/**
 * Gradient-boosted trees (Friedman 2001, "Greedy function approximation"; stochastic variant,
 * Friedman 2002): start from the loss's base score (the mean label for squared error), then each
 * tree fits the current negative gradient (the residuals for squared error) and is added with
 * weight learningRate. Trees are grown on quantile-binned features with gradient histograms (see
 * tree-builder.ts); the loss (boosting-loss.ts) may then reset the leaves to its Newton step.
 */
export function trainGradientBoosting(
  set: TrainingSet,
  params: GradientBoostingParams = {},
  trainedAt: Date = new Date(),
  options: TrainingOptions = {},
): TreeEnsemble {
  const p = parseParams(gradientBoostingParamsSchema, params, "gradient boosting parameters");
  const data = packTrainingSet(set);
  const binned = binTrainingSet(data, p.maxBins);
  const random = new SeededRandom(p.seed);
  const builder = new TreeBuilder(
    binned,
    {
      maxDepth: p.maxDepth,
      minSamplesLeaf: p.minSamplesLeaf,
      l2: p.l2,
      minGain: p.minGain,
      featureFraction: p.featureFraction,
      leafScale: p.learningRate,
    },
    random,
  );
  const { rowCount, labels } = data;
  const loss = boostingLoss(p.loss);
  const baseScore = loss.baseScore(labels);

  const predictions = new Float64Array(rowCount).fill(baseScore);
  const residuals = new Float64Array(rowCount);
  const allRows = Uint32Array.from({ length: rowCount }, (_, i) => i);
  const rows = new Uint32Array(rowCount);
  const sampleSize = Math.max(1, Math.round(p.subsample * rowCount));
  const nodes = new NodeList();
  const treeRoots: number[] = [];
  // Large histograms are built by two threads (tree-builder.ts, startHelper); same trees.
  const threads =
    options.threads ??
    (sampleSize * data.featureCount >= HELPER_MIN_VALUES && navigator.hardwareConcurrency >= 2 ? 2 : 1);
  if (threads === 2) builder.startHelper();
  try {
    for (let t = 0; t < p.nTrees; t++) {
      loss.negativeGradient(labels, predictions, residuals);
      if (sampleSize < rowCount) drawWithoutReplacement(allRows, sampleSize, random);
      rows.set(allRows);
      // Ascending rows let the histogram passes read the bins' columns front to back.
      if (sampleSize < rowCount) rows.subarray(0, sampleSize).sort();
      const root = builder.grow(residuals, rows, sampleSize, nodes);
      loss.refitLeaves({
        ...{ nodes, root, rows, count: sampleSize, matrix: data.matrix, featureCount: data.featureCount },
        ...{ labels, raw: predictions, learningRate: p.learningRate, l2: p.l2 },
      });
      treeRoots.push(root);
      // The sampled rows' leaves are known from the growth; only the rows left out walk the tree.
      builder.addLeafValues(predictions, rows, nodes);
      addTreeTo(predictions, data.matrix, data.featureCount, nodes, root, rows.subarray(sampleSize));
    }
  } finally {
    builder.close();
  }

  return TreeEnsemble.fromParts({
    kind: "gradient-boosting",
    featureNames: data.featureNames,
    params: p,
    baseScore,
    treeRoots,
    nodes,
    importance: builder.importance,
    trainedAt,
  });
}

/** Partial Fisher-Yates: the first k entries of `rows` become a uniform sample. */
function drawWithoutReplacement(rows: Uint32Array, k: number, random: SeededRandom): void {
  for (let i = 0; i < k; i++) {
    const pick = i + random.nextInt(rows.length - i);
    const swap = rows[i]!;
    rows[i] = rows[pick]!;
    rows[pick] = swap;
  }
}

/** predictions[i] += the new tree's value for each row i of `rows` (the model's own rule). */
function addTreeTo(
  predictions: Float64Array,
  matrix: Float64Array,
  featureCount: number,
  nodes: NodeList,
  root: number,
  rows: Uint32Array,
): void {
  const { feature, threshold, left, right, value, missingLeft } = nodes;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    let node = root;
    while (feature[node]! >= 0) {
      const x = matrix[i * featureCount + feature[node]!]!;
      if (x <= threshold[node]!) node = left[node]!;
      else if (x > threshold[node]!) node = right[node]!;
      else node = missingLeft[node] === 1 ? left[node]! : right[node]!;
    }
    predictions[i]! += value[node]!;
  }
}
