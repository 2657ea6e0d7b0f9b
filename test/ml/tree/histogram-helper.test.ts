import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { binTrainingSet } from "../../../ml/tree/binning.ts";
import { histogramLength } from "../../../ml/tree/gradient-histogram.ts";
import { HistogramHelper } from "../../../ml/tree/histogram-helper.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { packTrainingSet } from "../../../ml/tree/training-set.ts";
import { NodeList, TreeBuilder, type TreeGrowthParams } from "../../../ml/tree/tree-builder.ts";

const ROWS = 4_000;

function dataset(featureCount: number, seed: number) {
  const random = new SeededRandom(seed);
  const rows: number[][] = [];
  const targets = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const x = Array.from({ length: featureCount }, () => (random.next() < 0.05 ? Number.NaN : random.next()));
    rows.push(x);
    targets[i] = x.reduce((sum, v, j) => sum + (Number.isNaN(v) ? 1 : Math.sin((j + 1) * v)), 0);
  }
  return { binned: binTrainingSet(packTrainingSet({ rows, labels: targets }), 255), targets };
}

const params: TreeGrowthParams = {
  maxDepth: 5,
  minSamplesLeaf: 5,
  l2: 1,
  minGain: 0,
  featureFraction: 1,
  leafScale: 0.1,
};

const samples: Array<[string, (random: SeededRandom) => Uint32Array]> = [
  ["every row in order", () => Uint32Array.from({ length: ROWS }, (_, i) => i)],
  [
    "a sorted sample of half the rows",
    (random) => Uint32Array.from({ length: ROWS / 2 }, () => random.nextInt(ROWS)).sort(),
  ],
  [
    "a bootstrap sample with repeated rows",
    (random) => Uint32Array.from({ length: ROWS }, () => random.nextInt(ROWS)),
  ],
];

/** Grows three trees with one builder (reusing its histograms) and returns them with the rows. */
function growThree(featureCount: number, sample: (random: SeededRandom) => Uint32Array, helper: boolean) {
  const { binned, targets } = dataset(featureCount, 7);
  const builder = new TreeBuilder(binned, params, new SeededRandom(1));
  if (helper) builder.startHelper();
  const nodes = new NodeList();
  const orders: number[][] = [];
  try {
    const random = new SeededRandom(2);
    for (let tree = 0; tree < 3; tree++) {
      const rows = sample(random);
      builder.grow(targets, rows, rows.length, nodes);
      orders.push(Array.from(rows));
    }
  } finally {
    builder.close();
  }
  return { nodes, orders, importance: Array.from(builder.importance) };
}

describe("the histogram helper thread", () => {
  for (const featureCount of [1, 5]) {
    for (const [what, sample] of samples) {
      test(`grows the same trees, node for node, as one thread over ${what} (${featureCount} features)`, () => {
        const alone = growThree(featureCount, sample, false);
        const helped = growThree(featureCount, sample, true);
        expect(helped.nodes.length).toBeGreaterThan(20);
        expect({ ...helped.nodes }).toEqual({ ...alone.nodes });
        expect(helped.orders).toEqual(alone.orders);
        expect(helped.importance).toEqual(alone.importance);
      });
    }
  }

  test("once closed, leaves the builder growing the same trees on its own", () => {
    const { binned, targets } = dataset(4, 3);
    const rows = () => Uint32Array.from({ length: ROWS }, (_, i) => i);
    const builder = new TreeBuilder(binned, params, new SeededRandom(1));
    builder.startHelper();
    const helped = new NodeList();
    builder.grow(targets, rows(), ROWS, helped);
    builder.close();
    const alone = new NodeList();
    builder.grow(targets, rows(), ROWS, alone);
    expect({ ...alone }).toEqual({ ...helped });
  });

  test("fails the request with INTERNAL when the helper's work throws, instead of hanging", () => {
    const { binned } = dataset(3, 4);
    const helper = HistogramHelper.start(binned, 2, histogramLength(3));
    try {
      helper.request(99, 0, 0, 0);
      let caught: unknown;
      try {
        helper.awaitHelper();
      } catch (error) {
        caught = error;
      }
      expect(isPlatformError(caught, "INTERNAL")).toBe(true);
    } finally {
      helper.close();
    }
  });

  test("refuses bins outside shared memory with INTERNAL", () => {
    const { binned } = dataset(2, 5);
    const copied = { ...binned, bins: Uint8Array.from(binned.bins) };
    let caught: unknown;
    try {
      HistogramHelper.start(copied, 2, histogramLength(2));
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, "INTERNAL")).toBe(true);
  });
});

test("a builder whose shared histograms would pass the memory bound stays on one thread", () => {
  // 2 * 30 + 4 histograms of 300 features x 4 KB: 75 MB, above HELPER_ARENA_BYTES (64 MB).
  const rows = Array.from({ length: 50 }, (_, i) => Array.from({ length: 300 }, (_, j) => (i * j) % 7));
  const binned = binTrainingSet(packTrainingSet({ rows, labels: new Float64Array(50) }), 255);
  const builder = new TreeBuilder(binned, { ...params, maxDepth: 30 }, new SeededRandom(1));
  expect(builder.startHelper()).toBe(false);
  const shallow = new TreeBuilder(binned, params, new SeededRandom(1));
  try {
    expect(shallow.startHelper()).toBe(true);
  } finally {
    shallow.close();
  }
});
