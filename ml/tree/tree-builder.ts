import { type BinnedMatrix, MISSING_BIN } from "./binning.ts";
import type { SeededRandom } from "./random.ts";

/**
 * Grows one regression tree on binned data with gradient histograms, the way LightGBM and
 * XGBoost's `hist` method do (Ke et al. 2017; Chen & Guestrin 2016, sec. 3):
 *  - per node, a histogram of (sum of targets, count) per feature bin;
 *  - the best split of a feature is one left-to-right scan of its histogram;
 *  - the subtraction trick: only the smaller child's histogram is built from rows, the larger
 *    one is parent minus smaller, reusing the parent's buffer;
 *  - missing values (bin 255) try both sides and keep the better one: the learned default
 *    direction. A node that saw no missing value in training sends NaN left.
 * The loss is squared error, so each row's hessian is 1 and the hessian sum is the row count.
 * `targets` are the residuals (gradient boosting) or the labels (random forest); a leaf's value
 * is leafScale * sum(targets) / (count + l2), and a split's gain is the usual
 * GL^2/(nL+l2) + GR^2/(nR+l2) - G^2/(n+l2) (equal to the variance reduction times n when l2 = 0).
 */
export interface TreeGrowthParams {
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly l2: number;
  readonly minGain: number;
  /** Fraction of features considered at each node (random-forest style), 1 = all. */
  readonly featureFraction: number;
  /** Multiplies every leaf value (learning rate, or 1/nTrees for a forest). */
  readonly leafScale: number;
}

/** The nodes of all trees of a model, appended to as trees grow. Leaves have feature -1. */
export class NodeList {
  readonly feature: number[] = [];
  readonly threshold: number[] = [];
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly value: number[] = [];
  readonly missingLeft: number[] = [];

  get length(): number {
    return this.feature.length;
  }

  addLeaf(value: number): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(value);
    this.missingLeft.push(1);
    return this.feature.length - 1;
  }
}

const SLOTS = 256; // bins per feature in a histogram, the last one is MISSING_BIN
const STRIDE = 2; // (target sum, count)

interface Split {
  feature: number;
  bin: number;
  missingLeft: boolean;
  gain: number;
}

export class TreeBuilder {
  private readonly pool: Float64Array[] = [];
  private readonly histogramLength: number;
  private readonly featureOrder: Int32Array;

  constructor(
    private readonly data: BinnedMatrix,
    private readonly params: TreeGrowthParams,
    private readonly random: SeededRandom,
    /** Gain accumulated per feature over every split this builder makes. */
    readonly importance: Float64Array = new Float64Array(data.featureCount),
  ) {
    this.histogramLength = data.featureCount * SLOTS * STRIDE;
    this.featureOrder = Int32Array.from({ length: data.featureCount }, (_, j) => j);
  }

  /**
   * Grows a tree over rows[0, count) (indices into the binned matrix; duplicates allowed, as a
   * bootstrap sample has). `rows` is reordered in place. Returns the root's index in `nodes`.
   */
  grow(targets: Float64Array, rows: Uint32Array, count: number, nodes: NodeList): number {
    const root = this.canSplit(0, count) ? this.acquire() : undefined;
    if (root !== undefined) this.fillHistogram(targets, rows, 0, count, root);
    return this.growNode(targets, rows, 0, count, 0, root, nodes);
  }

  private canSplit(depth: number, count: number): boolean {
    return depth < this.params.maxDepth && count >= 2 * this.params.minSamplesLeaf;
  }

  /** `histogram` is present exactly when the node may split; the node owns and releases it. */
  private growNode(
    targets: Float64Array,
    rows: Uint32Array,
    start: number,
    end: number,
    depth: number,
    histogram: Float64Array | undefined,
    nodes: NodeList,
  ): number {
    const { l2, leafScale, minGain } = this.params;
    let total = 0;
    for (let i = start; i < end; i++) total += targets[rows[i]!]!;
    const count = end - start;
    const node = nodes.addLeaf((leafScale * total) / (count + l2));
    if (histogram === undefined) return node;
    const split = this.bestSplit(histogram, total, count);
    if (split === undefined || split.gain <= minGain) {
      this.release(histogram);
      return node;
    }
    this.importance[split.feature]! += split.gain;
    const middle = this.partition(rows, start, end, split);
    const needLeft = this.canSplit(depth + 1, middle - start);
    const needRight = this.canSplit(depth + 1, end - middle);
    let leftHistogram: Float64Array | undefined;
    let rightHistogram: Float64Array | undefined;
    if (needLeft && needRight && count * this.data.featureCount < this.histogramLength) {
      // A small node: filling both children from rows is cheaper than subtracting histograms.
      this.release(histogram);
      leftHistogram = this.acquire();
      rightHistogram = this.acquire();
      this.fillHistogram(targets, rows, start, middle, leftHistogram);
      this.fillHistogram(targets, rows, middle, end, rightHistogram);
    } else if (needLeft && needRight) {
      // The subtraction trick: build the smaller child, the larger is parent minus smaller.
      const smaller = this.acquire();
      const smallerIsLeft = middle - start <= end - middle;
      if (smallerIsLeft) this.fillHistogram(targets, rows, start, middle, smaller);
      else this.fillHistogram(targets, rows, middle, end, smaller);
      for (let k = 0; k < this.histogramLength; k++) histogram[k]! -= smaller[k]!;
      leftHistogram = smallerIsLeft ? smaller : histogram;
      rightHistogram = smallerIsLeft ? histogram : smaller;
    } else {
      this.release(histogram);
      if (needLeft) {
        leftHistogram = this.acquire();
        this.fillHistogram(targets, rows, start, middle, leftHistogram);
      } else if (needRight) {
        rightHistogram = this.acquire();
        this.fillHistogram(targets, rows, middle, end, rightHistogram);
      }
    }
    nodes.feature[node] = split.feature;
    nodes.threshold[node] = this.data.upperBounds[split.feature]![split.bin]!;
    nodes.missingLeft[node] = split.missingLeft ? 1 : 0;
    nodes.left[node] = this.growNode(targets, rows, start, middle, depth + 1, leftHistogram, nodes);
    nodes.right[node] = this.growNode(targets, rows, middle, end, depth + 1, rightHistogram, nodes);
    return node;
  }

  private bestSplit(histogram: Float64Array, total: number, count: number): Split | undefined {
    const { l2, minSamplesLeaf, featureFraction } = this.params;
    const featureCount = this.data.featureCount;
    const considered = Math.max(1, Math.round(featureFraction * featureCount));
    if (considered < featureCount) this.shuffleFeatures(considered);
    const parentScore = (total * total) / (count + l2);
    let bestGain = Number.NEGATIVE_INFINITY;
    let bestFeature = -1;
    let bestBin = 0;
    let bestMissingLeft = true;
    for (let k = 0; k < considered; k++) {
      const feature = this.featureOrder[k]!;
      const binCount = this.data.upperBounds[feature]!.length;
      const base = feature * SLOTS * STRIDE;
      const missingSum = histogram[base + MISSING_BIN * STRIDE]!;
      const missingCount = histogram[base + MISSING_BIN * STRIDE + 1]!;
      let leftSum = 0;
      let leftCount = 0;
      for (let bin = 0; bin < binCount - 1; bin++) {
        const binRows = histogram[base + bin * STRIDE + 1]!;
        if (binRows === 0) continue;
        leftSum += histogram[base + bin * STRIDE]!;
        leftCount += binRows;
        // Missing values go right.
        let nl = leftCount;
        let nr = count - nl;
        if (nl >= minSamplesLeaf && nr >= minSamplesLeaf) {
          const gr = total - leftSum;
          const gain = (leftSum * leftSum) / (nl + l2) + (gr * gr) / (nr + l2) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = feature;
            bestBin = bin;
            bestMissingLeft = missingCount === 0;
          }
        }
        if (missingCount === 0) continue;
        // Missing values go left.
        const gl = leftSum + missingSum;
        nl = leftCount + missingCount;
        nr = count - nl;
        if (nl >= minSamplesLeaf && nr >= minSamplesLeaf) {
          const gr = total - gl;
          const gain = (gl * gl) / (nl + l2) + (gr * gr) / (nr + l2) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = feature;
            bestBin = bin;
            bestMissingLeft = true;
          }
        }
      }
    }
    return bestFeature < 0
      ? undefined
      : { feature: bestFeature, bin: bestBin, missingLeft: bestMissingLeft, gain: bestGain };
  }

  /** Moves rows going left to the front of [start, end); returns the first right position. */
  private partition(rows: Uint32Array, start: number, end: number, split: Split): number {
    const { bins, featureCount } = this.data;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      const bin = bins[rows[i]! * featureCount + split.feature]!;
      const goesLeft = bin === MISSING_BIN ? split.missingLeft : bin <= split.bin;
      if (goesLeft) i++;
      else {
        const swap = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = swap;
        j--;
      }
    }
    return i;
  }

  private fillHistogram(
    targets: Float64Array,
    rows: Uint32Array,
    start: number,
    end: number,
    histogram: Float64Array,
  ): void {
    const { bins, featureCount } = this.data;
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      const target = targets[row]!;
      const offset = row * featureCount;
      for (let j = 0; j < featureCount; j++) {
        const slot = (j * SLOTS + bins[offset + j]!) * STRIDE;
        histogram[slot]! += target;
        histogram[slot + 1]! += 1;
      }
    }
  }

  /** Partial Fisher-Yates: the first `k` entries of featureOrder become a random subset. */
  private shuffleFeatures(k: number): void {
    const order = this.featureOrder;
    for (let i = 0; i < k; i++) {
      const pick = i + this.random.nextInt(order.length - i);
      const swap = order[i]!;
      order[i] = order[pick]!;
      order[pick] = swap;
    }
  }

  private acquire(): Float64Array {
    const reused = this.pool.pop();
    if (reused === undefined) return new Float64Array(this.histogramLength);
    reused.fill(0);
    return reused;
  }

  private release(histogram: Float64Array): void {
    this.pool.push(histogram);
  }
}
