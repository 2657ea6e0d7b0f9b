import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { type BinnedMatrix, MISSING_BIN } from "./binning.ts";
import {
  addRows,
  bestSplit,
  binCounts,
  fillHistogramAllRows,
  gatherGradients,
  histogramLength,
  type Split,
  subtractHistogram,
} from "./gradient-histogram.ts";
import { HistogramHelper, Op } from "./histogram-helper.ts";
import type { SeededRandom } from "./random.ts";

/**
 * Grows one regression tree on binned data with gradient histograms, the way LightGBM and
 * XGBoost's `hist` method do (Ke et al. 2017; Chen & Guestrin 2016, sec. 3), depth first:
 *  - per node, a histogram of (sum of targets, count) per feature bin (gradient-histogram.ts);
 *  - the best split of a feature is one left-to-right scan of its histogram;
 *  - the subtraction trick: only the smaller child's histogram is built from rows, the larger
 *    one is parent minus smaller, reusing the parent's buffer;
 *  - missing values (bin 255) try both sides and keep the better one: the learned default
 *    direction. A node that saw no missing value in training sends NaN left;
 *  - a node's rows are a range of one index array, split by a stable in-place partition
 *    (scikit-learn's `splitting.pyx` does the same), so rows stay ascending inside every node
 *    and the histogram passes read the column-major bins front to back;
 *  - a child's target sum and count come from its parent's split, never from its rows.
 * The loss is squared error, so each row's hessian is 1 and the hessian sum is the row count.
 * `targets` are the residuals (gradient boosting) or the labels (random forest); a leaf's value
 * is leafScale * sum(targets) / (count + l2), and a split's gain is the usual
 * GL^2/(nL+l2) + GR^2/(nR+l2) - G^2/(n+l2) (equal to the variance reduction times n when l2 = 0).
 * After `grow`, the leaves of the tree and their row ranges are known (`addLeafValues`), so
 * gradient boosting updates its training predictions without walking the tree row by row.
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

/** The most shared histogram memory a helper thread may take (see startHelper). */
export const HELPER_ARENA_BYTES = 64 * 1024 * 1024;

export class TreeBuilder {
  private readonly pool: Float64Array[] = [];
  private readonly histogramLength: number;
  private readonly featureOrder: Int32Array;
  /** Scratch: gradients in node order, and the right side of a partition. */
  private ordered: Float64Array;
  private readonly rightRows: Uint32Array;
  /** Per bin, 1 when the split being applied sends it right. */
  private readonly goesRight = new Uint8Array(MISSING_BIN + 1);
  /** Leaves of the last grown tree: node index and row range [start, end), flattened. */
  private readonly leafRanges: number[] = [];
  /** Per-bin row counts of the whole matrix, made the first time a tree covers every row. */
  private allRowCounts: Float64Array | undefined;
  /** The second thread building half of each histogram, and each arena histogram's slot. */
  private helper: HistogramHelper | undefined;
  private readonly slotOf = new Map<Float64Array, number>();

  constructor(
    private readonly data: BinnedMatrix,
    private readonly params: TreeGrowthParams,
    private readonly random: SeededRandom,
    /** Gain accumulated per feature over every split this builder makes. */
    readonly importance: Float64Array = new Float64Array(data.featureCount),
  ) {
    this.histogramLength = histogramLength(data.featureCount);
    this.featureOrder = Int32Array.from({ length: data.featureCount }, (_, j) => j);
    this.ordered = new Float64Array(data.rowCount);
    this.rightRows = new Uint32Array(data.rowCount);
  }

  /**
   * Grows a tree over rows[0, count) (indices into the binned matrix; duplicates allowed, as a
   * bootstrap sample has). `rows` is reordered in place. Returns the root's index in `nodes`.
   */
  grow(targets: Float64Array, rows: Uint32Array, count: number, nodes: NodeList): number {
    if (count > this.ordered.length) {
      throw new PlatformError(
        ErrorCodes.TRAINING_DATA_INVALID,
        `a tree over ${count} rows of a matrix of ${this.ordered.length}`,
        { details: { count, rowCount: this.ordered.length } },
      );
    }
    this.leafRanges.length = 0;
    const helper = this.helper;
    if (helper === undefined) return this.growFrom(targets, rows, count, nodes);
    // The helper thread reads only shared memory: the round's gradients and rows go there.
    const shared = helper.shared;
    shared.targets.set(targets.subarray(0, this.data.rowCount));
    shared.rows.set(rows.subarray(0, count));
    const root = this.growFrom(shared.targets, shared.rows, count, nodes);
    rows.set(shared.rows.subarray(0, count));
    return root;
  }

  /**
   * Starts a second thread that builds half of every histogram's features from now on (see
   * histogram-helper.ts); the trees stay the same. `close` stops it. Worth it only when the
   * histograms are large: starting the thread costs 5-15 ms, each hand-over ~10 us. Returns
   * false, and stays on one thread, when the shared histograms would pass HELPER_ARENA_BYTES
   * (many features and a deep tree): memory stays bounded.
   */
  startHelper(): boolean {
    if (this.helper !== undefined) return true;
    // Depth first, the live histograms are at most the pending siblings on the path plus two.
    const slots = 2 * this.params.maxDepth + 4;
    if (slots * this.histogramLength * Float64Array.BYTES_PER_ELEMENT > HELPER_ARENA_BYTES) return false;
    const helper = HistogramHelper.start(this.data, slots, this.histogramLength);
    this.helper = helper;
    this.ordered = helper.shared.ordered;
    if (this.allRowCounts !== undefined) {
      helper.shared.counts.set(this.allRowCounts);
      this.allRowCounts = helper.shared.counts;
    }
    this.pool.length = 0;
    for (let slot = slots - 1; slot >= 0; slot--) {
      const view = helper.shared.arena.subarray(
        slot * this.histogramLength,
        (slot + 1) * this.histogramLength,
      );
      this.slotOf.set(view, slot);
      this.pool.push(view);
    }
    return true;
  }

  /** Stops the helper thread, if one runs; the builder goes on with one thread. */
  close(): void {
    const helper = this.helper;
    if (helper === undefined) return;
    this.helper = undefined;
    helper.close();
    this.pool.length = 0;
    this.slotOf.clear();
    this.ordered = new Float64Array(this.data.rowCount);
  }

  private growFrom(targets: Float64Array, rows: Uint32Array, count: number, nodes: NodeList): number {
    let total = 0;
    for (let i = 0; i < count; i++) total += targets[rows[i]!]!;
    const root = this.canSplit(0, count) ? this.acquire() : undefined;
    if (root !== undefined && isEveryRowInOrder(rows, count, this.data.rowCount))
      this.fillAllRows(targets, root);
    else if (root !== undefined) this.fill(targets, rows, 0, count, root);
    return this.growNode(targets, rows, 0, count, total, 0, root, nodes);
  }

  /**
   * predictions[row] += value of the leaf holding it, for every row of the last grown tree. The
   * value is read now, so a loss that refits the leaves (boosting-loss.ts) has its values used.
   */
  addLeafValues(predictions: Float64Array, rows: Uint32Array, nodes: NodeList): void {
    const ranges = this.leafRanges;
    for (let k = 0; k < ranges.length; k += 3) {
      const value = nodes.value[ranges[k]!]!;
      const end = ranges[k + 2]!;
      for (let i = ranges[k + 1]!; i < end; i++) predictions[rows[i]!]! += value;
    }
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
    total: number,
    depth: number,
    histogram: Float64Array | undefined,
    nodes: NodeList,
  ): number {
    const { l2, leafScale, minGain } = this.params;
    const count = end - start;
    const node = nodes.addLeaf((leafScale * total) / (count + l2));
    if (histogram === undefined) {
      this.leafRanges.push(node, start, end);
      return node;
    }
    const split = this.bestSplit(histogram, total, count);
    if (split === undefined || split.gain <= minGain) {
      this.release(histogram);
      this.leafRanges.push(node, start, end);
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
      this.fill(targets, rows, start, middle, leftHistogram);
      this.fill(targets, rows, middle, end, rightHistogram);
    } else if (needLeft && needRight) {
      // The subtraction trick: build the smaller child, the larger is parent minus smaller.
      const smaller = this.acquire();
      const smallerIsLeft = middle - start <= end - middle;
      if (smallerIsLeft) this.fill(targets, rows, start, middle, smaller);
      else this.fill(targets, rows, middle, end, smaller);
      subtractHistogram(histogram, smaller);
      leftHistogram = smallerIsLeft ? smaller : histogram;
      rightHistogram = smallerIsLeft ? histogram : smaller;
    } else {
      this.release(histogram);
      if (needLeft) {
        leftHistogram = this.acquire();
        this.fill(targets, rows, start, middle, leftHistogram);
      } else if (needRight) {
        rightHistogram = this.acquire();
        this.fill(targets, rows, middle, end, rightHistogram);
      }
    }
    nodes.feature[node] = split.feature;
    nodes.threshold[node] = this.data.upperBounds[split.feature]![split.bin]!;
    nodes.missingLeft[node] = split.missingLeft ? 1 : 0;
    const leftTotal = split.leftSum;
    nodes.left[node] = this.growNode(
      targets,
      rows,
      start,
      middle,
      leftTotal,
      depth + 1,
      leftHistogram,
      nodes,
    );
    nodes.right[node] = this.growNode(
      targets,
      rows,
      middle,
      end,
      total - leftTotal,
      depth + 1,
      rightHistogram,
      nodes,
    );
    return node;
  }

  private bestSplit(histogram: Float64Array, total: number, count: number): Split | undefined {
    const { featureFraction } = this.params;
    const featureCount = this.data.featureCount;
    const considered = Math.max(1, Math.round(featureFraction * featureCount));
    if (considered < featureCount) this.shuffleFeatures(considered);
    return bestSplit(this.data, histogram, total, count, this.featureOrder, considered, this.params);
  }

  /**
   * Moves rows going left to the front of [start, end), both sides keeping their order (rows
   * stay ascending inside a node); returns the first right position. Branch-free: a row's side
   * comes from a 256-entry table of the split's bins, and every row is written to both sides'
   * next slots with only the chosen side's cursor advancing. A split's side is a coin flip for
   * the branch predictor, and mispredicted branches made the branching loop as slow as all the
   * histogram building (measured on the 80k x 20 bench set).
   */
  private partition(rows: Uint32Array, start: number, end: number, split: Split): number {
    const { bins, rowCount } = this.data;
    const column = split.feature * rowCount;
    const goesRight = this.goesRight;
    for (let bin = 0; bin < MISSING_BIN; bin++) goesRight[bin] = bin > split.bin ? 1 : 0;
    goesRight[MISSING_BIN] = split.missingLeft ? 0 : 1;
    const right = this.rightRows;
    let left = start;
    let rightCount = 0;
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      const side = goesRight[bins[column + row]!]!;
      // left <= i: the slot written was already read.
      rows[left] = row;
      right[rightCount] = row;
      left += 1 - side;
      rightCount += side;
    }
    rows.set(right.subarray(0, rightCount), left);
    return left;
  }

  private fill(
    targets: Float64Array,
    rows: Uint32Array,
    start: number,
    end: number,
    histogram: Float64Array,
  ): void {
    gatherGradients(targets, rows, start, end, this.ordered);
    const helper = this.helper;
    const featureCount = this.data.featureCount;
    if (helper === undefined) {
      addRows(this.data, rows, start, end, this.ordered, histogram, 0, featureCount);
      return;
    }
    helper.request(Op.ADD_ROWS, start, end, this.slotOf.get(histogram)!);
    addRows(this.data, rows, start, end, this.ordered, histogram, 0, helper.shared.split);
    helper.awaitHelper();
  }

  private fillAllRows(targets: Float64Array, histogram: Float64Array): void {
    const helper = this.helper;
    if (helper === undefined) {
      this.allRowCounts ??= binCounts(this.data);
      fillHistogramAllRows(this.data, targets, this.allRowCounts, histogram);
      return;
    }
    if (this.allRowCounts === undefined) {
      helper.shared.counts.set(binCounts(this.data));
      this.allRowCounts = helper.shared.counts;
    }
    helper.request(Op.ALL_ROWS, 0, this.data.rowCount, this.slotOf.get(histogram)!);
    fillHistogramAllRows(this.data, targets, this.allRowCounts, histogram, 0, helper.shared.split);
    helper.awaitHelper();
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
    if (reused === undefined && this.helper !== undefined) {
      throw new PlatformError(ErrorCodes.INTERNAL, "the shared histogram arena is exhausted");
    }
    if (reused === undefined) return new Float64Array(this.histogramLength);
    reused.fill(0);
    return reused;
  }

  private release(histogram: Float64Array): void {
    this.pool.push(histogram);
  }
}

/** Whether rows[0, count) is 0, 1, ..., rowCount - 1: every row once, in order. */
function isEveryRowInOrder(rows: Uint32Array, count: number, rowCount: number): boolean {
  if (count !== rowCount) return false;
  for (let i = 0; i < count; i++) if (rows[i] !== i) return false;
  return true;
}
