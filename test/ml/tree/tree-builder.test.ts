import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { binTrainingSet } from "../../../ml/tree/binning.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { packTrainingSet } from "../../../ml/tree/training-set.ts";
import { NodeList, TreeBuilder, type TreeGrowthParams } from "../../../ml/tree/tree-builder.ts";

const ROWS = 3_000;
const FEATURES = 5;

/** Rows with a step, a slope and missing values in feature 2; the targets depend on all three. */
function dataset(seed: number) {
  const random = new SeededRandom(seed);
  const rows: number[][] = [];
  const targets = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const x = Array.from({ length: FEATURES }, () => random.next());
    if (random.next() < 0.15) x[2] = Number.NaN;
    rows.push(x);
    targets[i] =
      (x[0]! > 0.4 ? 3 : 0) + 2 * x[1]! + (Number.isNaN(x[2]!) ? 4 : x[2]!) + 0.1 * random.nextGaussian();
  }
  const packed = packTrainingSet({ rows, labels: targets });
  return { packed, binned: binTrainingSet(packed, 255), targets };
}

const params: TreeGrowthParams = {
  maxDepth: 6,
  minSamplesLeaf: 10,
  l2: 1,
  minGain: 0,
  featureFraction: 1,
  leafScale: 0.1,
};

/** The leaf a row of the raw matrix reaches, by the model's rule. */
function leafOf(nodes: NodeList, root: number, matrix: Float64Array, row: number): number {
  let node = root;
  while (nodes.feature[node]! >= 0) {
    const x = matrix[row * FEATURES + nodes.feature[node]!]!;
    if (x <= nodes.threshold[node]!) node = nodes.left[node]!;
    else if (x > nodes.threshold[node]!) node = nodes.right[node]!;
    else node = nodes.missingLeft[node] === 1 ? nodes.left[node]! : nodes.right[node]!;
  }
  return node;
}

const samples: Array<[string, (random: SeededRandom) => Uint32Array]> = [
  ["every row in order", () => Uint32Array.from({ length: ROWS }, (_, i) => i)],
  [
    "every row shuffled",
    (random) =>
      shuffled(
        Uint32Array.from({ length: ROWS }, (_, i) => i),
        random,
      ),
  ],
  [
    "a sorted half sample",
    (random) =>
      shuffled(
        Uint32Array.from({ length: ROWS }, (_, i) => i),
        random,
      )
        .subarray(0, ROWS / 2)
        .sort(),
  ],
  [
    "a bootstrap sample with repeated rows",
    (random) => Uint32Array.from({ length: ROWS }, () => random.nextInt(ROWS)),
  ],
];

function shuffled(rows: Uint32Array, random: SeededRandom): Uint32Array {
  for (let i = rows.length - 1; i > 0; i--) {
    const k = random.nextInt(i + 1);
    const swap = rows[i]!;
    rows[i] = rows[k]!;
    rows[k] = swap;
  }
  return rows;
}

describe("growing a tree", () => {
  for (const [what, sample] of samples) {
    test(`over ${what}, adding the leaves' values by row range equals walking the tree for each row`, () => {
      const { packed, binned, targets } = dataset(1);
      const rows = sample(new SeededRandom(2));
      const sampled = Uint32Array.from(rows);
      const nodes = new NodeList();
      const builder = new TreeBuilder(binned, params, new SeededRandom(3));
      const root = builder.grow(targets, rows, rows.length, nodes);
      expect(nodes.length).toBeGreaterThan(15);
      const added = new Float64Array(ROWS);
      builder.addLeafValues(added, rows, nodes);
      const walked = new Float64Array(ROWS);
      for (const row of sampled) walked[row]! += nodes.value[leafOf(nodes, root, packed.matrix, row)]!;
      expect(Array.from(added)).toEqual(Array.from(walked));
    });
  }

  test("keeps each leaf's rows together and in ascending order (a stable partition)", () => {
    const { packed, binned, targets } = dataset(4);
    const rows = Uint32Array.from({ length: ROWS }, (_, i) => i);
    const nodes = new NodeList();
    const root = new TreeBuilder(binned, params, new SeededRandom(1)).grow(targets, rows, ROWS, nodes);
    const seen = new Set<number>();
    for (let i = 0; i < ROWS; i++) {
      const leaf = leafOf(nodes, root, packed.matrix, rows[i]!);
      const previous = i === 0 ? -1 : leafOf(nodes, root, packed.matrix, rows[i - 1]!);
      if (leaf === previous) expect(rows[i]!).toBeGreaterThan(rows[i - 1]!);
      else {
        expect(seen.has(leaf)).toBe(false);
        seen.add(leaf);
      }
    }
    expect(new Set(rows).size).toBe(ROWS);
  });

  test("sets each leaf to leafScale * sum / (count + l2) of the rows that reach it", () => {
    // Regression guard for taking a child's sum from its parent's split instead of its rows.
    const { packed, binned, targets } = dataset(5);
    const rows = Uint32Array.from({ length: ROWS }, (_, i) => i);
    const nodes = new NodeList();
    const root = new TreeBuilder(binned, params, new SeededRandom(1)).grow(targets, rows, ROWS, nodes);
    const sums = new Map<number, { sum: number; count: number }>();
    for (let row = 0; row < ROWS; row++) {
      const leaf = leafOf(nodes, root, packed.matrix, row);
      const entry = sums.get(leaf) ?? { sum: 0, count: 0 };
      entry.sum += targets[row]!;
      entry.count += 1;
      sums.set(leaf, entry);
    }
    expect(sums.size).toBeGreaterThan(8);
    for (const [leaf, { sum, count }] of sums) {
      expect(nodes.value[leaf]!).toBeCloseTo((params.leafScale * sum) / (count + params.l2), 9);
      expect(count).toBeGreaterThanOrEqual(params.minSamplesLeaf);
    }
  });

  test("refuses a sample larger than the matrix with TRAINING_DATA_INVALID instead of writing past its buffers", () => {
    const { binned, targets } = dataset(6);
    const rows = new Uint32Array(ROWS + 1);
    let caught: unknown;
    try {
      new TreeBuilder(binned, params, new SeededRandom(1)).grow(targets, rows, ROWS + 1, new NodeList());
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, "TRAINING_DATA_INVALID")).toBe(true);
  });
});
