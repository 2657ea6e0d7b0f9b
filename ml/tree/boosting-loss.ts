import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { NodeList } from "./tree-builder.ts";

/**
 * The loss a gradient-boosted ensemble minimises, as the hook gradient-boosting.ts calls: where
 * the raw score starts, what each tree fits (the negative gradient at the current raw scores),
 * how a grown tree's leaves are set, and how a raw score becomes the model's output.
 *
 * - squared error (regression): the gradient is the residual and the hessian is 1, so the leaf
 *   value the tree builder computes, sum(residual) / (count + l2), is already the Newton step.
 * - log loss (binary classification, labels 0/1): the raw score is the log-odds, p = sigmoid(raw),
 *   the negative gradient is y - p and the hessian p(1 - p). The tree builder's histograms assume
 *   a unit hessian, so the tree is grown on the gradients (Friedman's TreeBoost, sklearn's
 *   GradientBoostingClassifier) and each leaf is then set to one Newton step over its rows,
 *   lr * sum(y - p) / (sum(p(1 - p)) + l2), the value XGBoost and HistGradientBoosting give it.
 */
export type BoostingLossName = "squared-error" | "log-loss";

export interface BoostingLoss {
  readonly name: BoostingLossName;
  /** the raw score before any tree; TRAINING_DATA_INVALID for labels the loss cannot take */
  baseScore(labels: Float64Array): number;
  negativeGradient(labels: Float64Array, raw: Float64Array, out: Float64Array): void;
  /**
   * Resets the leaves of the tree at `root` (nodes from `root` on) after it was grown over
   * rows[0, count); a loss whose hessian is 1 leaves them as the builder set them.
   */
  refitLeaves(tree: LeafRefit): void;
}

export interface LeafRefit {
  readonly nodes: NodeList;
  readonly root: number;
  readonly rows: Uint32Array;
  readonly count: number;
  readonly matrix: Float64Array;
  readonly featureCount: number;
  readonly labels: Float64Array;
  readonly raw: Float64Array;
  readonly learningRate: number;
  readonly l2: number;
}

const squaredError: BoostingLoss = {
  name: "squared-error",
  baseScore(labels) {
    let sum = 0;
    for (let i = 0; i < labels.length; i++) sum += labels[i]!;
    return sum / labels.length;
  },
  negativeGradient(labels, raw, out) {
    for (let i = 0; i < labels.length; i++) out[i] = labels[i]! - raw[i]!;
  },
  refitLeaves() {},
};

/** p is kept off 0 and 1 so that a pure leaf's Newton step stays finite */
const PROBABILITY_FLOOR = 1e-15;

const logLoss: BoostingLoss = {
  name: "log-loss",
  baseScore(labels) {
    let positives = 0;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (y !== 0 && y !== 1)
        throw new PlatformError(
          ErrorCodes.TRAINING_DATA_INVALID,
          `log-loss needs labels 0 or 1; row ${i} has ${y}`,
          { details: { row: i } },
        );
      positives += y;
    }
    const p = clamp(positives / labels.length);
    return Math.log(p / (1 - p));
  },
  negativeGradient(labels, raw, out) {
    for (let i = 0; i < labels.length; i++) out[i] = labels[i]! - sigmoid(raw[i]!);
  },
  refitLeaves(tree) {
    const { nodes, root, rows, count, matrix, featureCount, labels, raw } = tree;
    const size = nodes.length - root;
    const gradient = new Float64Array(size);
    const hessian = new Float64Array(size);
    for (let k = 0; k < count; k++) {
      const i = rows[k]!;
      const leaf = leafOf(nodes, root, matrix, i * featureCount) - root;
      const p = clamp(sigmoid(raw[i]!));
      gradient[leaf]! += labels[i]! - p;
      hessian[leaf]! += p * (1 - p);
    }
    for (let n = 0; n < size; n++) {
      if (nodes.feature[root + n]! >= 0) continue;
      // every leaf holds sampled rows (at least minSamplesLeaf); with l2 = 0 and only clamped
      // probabilities the hessian could still be ~0, so the step is guarded
      const denominator = hessian[n]! + tree.l2;
      nodes.value[root + n] = denominator > 0 ? (tree.learningRate * gradient[n]!) / denominator : 0;
    }
  },
};

export function boostingLoss(name: BoostingLossName | undefined): BoostingLoss {
  return name === "log-loss" ? logLoss : squaredError;
}

/**
 * The model's output for a raw score: the score itself for regression, P(label = 1) for log loss.
 * A model says which through its parameters (`params.loss`), so a serialised ensemble needs no
 * new field and every regressor saved before the hook reads as before.
 */
export function outputLink(params: Readonly<Record<string, unknown>>): ((raw: number) => number) | undefined {
  return params.loss === "log-loss" ? sigmoid : undefined;
}

export function sigmoid(raw: number): number {
  return 1 / (1 + Math.exp(-raw));
}

function clamp(p: number): number {
  return Math.min(1 - PROBABILITY_FLOOR, Math.max(PROBABILITY_FLOOR, p));
}

/** the leaf row `offset` of the matrix reaches, by the same rule as the model's scoring */
function leafOf(nodes: NodeList, root: number, matrix: Float64Array, offset: number): number {
  const { feature, threshold, left, right, missingLeft } = nodes;
  let node = root;
  while (feature[node]! >= 0) {
    const x = matrix[offset + feature[node]!]!;
    if (x <= threshold[node]!) node = left[node]!;
    else if (x > threshold[node]!) node = right[node]!;
    else node = missingLeft[node] === 1 ? left[node]! : right[node]!;
  }
  return node;
}
