import { describe, expect, test } from "bun:test";
import { type BinnedMatrix, MISSING_BIN } from "../../../ml/tree/binning.ts";
import {
  bestSplit,
  binCounts,
  FEATURE_STRIDE,
  fillHistogram,
  fillHistogramAllRows,
  histogramLength,
  subtractHistogram,
} from "../../../ml/tree/gradient-histogram.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

/** A column-major binned matrix of random bins (some missing) and its gradients. */
function randomMatrix(rowCount: number, featureCount: number, seed: number) {
  const random = new SeededRandom(seed);
  const binCount = 12;
  const bins = new Uint8Array(rowCount * featureCount);
  for (let k = 0; k < bins.length; k++)
    bins[k] = random.next() < 0.1 ? MISSING_BIN : random.nextInt(binCount);
  const upperBounds = Array.from({ length: featureCount }, () =>
    Float64Array.from({ length: binCount }, (_, b) =>
      b === binCount - 1 ? Number.POSITIVE_INFINITY : b + 0.5,
    ),
  );
  const data: BinnedMatrix = { bins, rowCount, featureCount, upperBounds };
  const gradients = Float64Array.from({ length: rowCount }, () => random.nextGaussian());
  return { data, gradients };
}

/** The histogram by definition: one row at a time, one feature at a time. */
function naiveHistogram(data: BinnedMatrix, gradients: Float64Array, rows: ArrayLike<number>): Float64Array {
  const histogram = new Float64Array(histogramLength(data.featureCount));
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    for (let j = 0; j < data.featureCount; j++) {
      const slot = j * FEATURE_STRIDE + 2 * data.bins[j * data.rowCount + row]!;
      histogram[slot]! += gradients[row]!;
      histogram[slot + 1]! += 1;
    }
  }
  return histogram;
}

function expectClose(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < actual.length; k++) expect(actual[k]!).toBeCloseTo(expected[k]!, 9);
}

describe("building a histogram", () => {
  // 1 to 9 features: the four-features-per-pass loop, its remainder, and both together.
  for (const featureCount of [1, 2, 3, 4, 5, 7, 9]) {
    test(`sums and counts every row of a row range in its bin of each of ${featureCount} features`, () => {
      const { data, gradients } = randomMatrix(300, featureCount, featureCount);
      const rows = Uint32Array.from({ length: 300 }, (_, i) => (i * 7) % 300);
      const histogram = new Float64Array(histogramLength(featureCount));
      fillHistogram(data, gradients, rows, 40, 220, new Float64Array(300), histogram);
      expectClose(histogram, naiveHistogram(data, gradients, rows.subarray(40, 220)));
    });
  }

  test("counts a row as many times as a bootstrap sample repeats it", () => {
    const { data, gradients } = randomMatrix(50, 3, 1);
    const rows = Uint32Array.of(4, 4, 4, 9, 9, 10);
    const histogram = new Float64Array(histogramLength(3));
    fillHistogram(data, gradients, rows, 0, rows.length, new Float64Array(50), histogram);
    expectClose(histogram, naiveHistogram(data, gradients, rows));
  });

  for (const featureCount of [1, 2, 5]) {
    test(`over every row in order with cached counts equals the row-by-row histogram (${featureCount} features)`, () => {
      const { data, gradients } = randomMatrix(400, featureCount, 10 + featureCount);
      const counts = binCounts(data);
      const histogram = new Float64Array(histogramLength(featureCount));
      fillHistogramAllRows(data, gradients, counts, histogram);
      const everyRow = Array.from({ length: 400 }, (_, i) => i);
      expectClose(histogram, naiveHistogram(data, gradients, everyRow));
    });
  }

  test("subtracting one child's histogram from the parent's leaves the sibling's", () => {
    const { data, gradients } = randomMatrix(200, 5, 3);
    const left = Array.from({ length: 80 }, (_, i) => i * 2);
    const right = Array.from({ length: 200 }, (_, i) => i).filter((i) => !left.includes(i));
    const parent = naiveHistogram(data, gradients, [...left, ...right]);
    subtractHistogram(parent, naiveHistogram(data, gradients, left));
    expectClose(parent, naiveHistogram(data, gradients, right));
  });
});

describe("finding the best split", () => {
  /** One feature per column of `columns` (bins, MISSING_BIN for NaN), and the rows' gradients. */
  function node(columns: number[][], gradients: number[]) {
    const rowCount = gradients.length;
    const featureCount = columns.length;
    const bins = new Uint8Array(rowCount * featureCount);
    columns.forEach((column, j) => {
      bins.set(column, j * rowCount);
    });
    const upperBounds = columns.map(() => Float64Array.of(0.5, 1.5, 2.5, Number.POSITIVE_INFINITY));
    const data: BinnedMatrix = { bins, rowCount, featureCount, upperBounds };
    const g = Float64Array.from(gradients);
    const histogram = naiveHistogram(
      data,
      g,
      Array.from({ length: rowCount }, (_, i) => i),
    );
    const total = gradients.reduce((sum, v) => sum + v, 0);
    const features = Int32Array.from({ length: featureCount }, (_, j) => j);
    return { data, histogram, total, rowCount, features };
  }
  const M = MISSING_BIN;
  const cases: Array<{
    what: string;
    columns: number[][];
    gradients: number[];
    minSamplesLeaf?: number;
    considered?: number;
    expected:
      | { feature: number; bin: number; missingLeft: boolean; leftSum: number; leftCount: number }
      | undefined;
  }> = [
    {
      what: "cuts a step where the gradients change sign",
      columns: [[0, 0, 1, 1, 2, 2, 3, 3]],
      gradients: [-1, -1, -1, -1, 1, 1, 1, 1],
      expected: { feature: 0, bin: 1, missingLeft: true, leftSum: -4, leftCount: 4 },
    },
    {
      what: "picks the feature that separates the gradients, not a noise feature",
      columns: [
        [0, 3, 0, 3, 0, 3, 0, 3],
        [0, 0, 1, 1, 2, 2, 3, 3],
      ],
      gradients: [-2, -2, -2, -2, 2, 2, 2, 2],
      expected: { feature: 1, bin: 1, missingLeft: true, leftSum: -8, leftCount: 4 },
    },
    {
      what: "sends missing values left when they resemble the left side",
      columns: [[0, 0, M, M, 3, 3, 3, 3]],
      gradients: [-1, -1, -1, -1, 1, 1, 1, 1],
      expected: { feature: 0, bin: 0, missingLeft: true, leftSum: -4, leftCount: 4 },
    },
    {
      what: "sends missing values right when they resemble the right side",
      columns: [[0, 0, 0, 0, 3, 3, M, M]],
      gradients: [-1, -1, -1, -1, 1, 1, 1, 1],
      expected: { feature: 0, bin: 0, missingLeft: false, leftSum: -4, leftCount: 4 },
    },
    {
      what: "finds no split when a side would have fewer than minSamplesLeaf rows",
      columns: [[0, 1, 1, 1, 1, 1]],
      gradients: [5, 0, 0, 0, 0, 0],
      minSamplesLeaf: 2,
      expected: undefined,
    },
    {
      what: "finds no split in a feature with a single bin",
      columns: [[2, 2, 2, 2]],
      gradients: [1, -1, 1, -1],
      expected: undefined,
    },
    {
      what: "looks only at the features it is told to consider",
      columns: [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 1, 1, 2, 2, 3, 3],
      ],
      gradients: [-2, -2, -2, -2, 2, 2, 2, 2],
      considered: 1,
      expected: undefined,
    },
  ];
  for (const c of cases) {
    test(c.what, () => {
      const { data, histogram, total, rowCount, features } = node(c.columns, c.gradients);
      const split = bestSplit(data, histogram, total, rowCount, features, c.considered ?? features.length, {
        l2: 0,
        minSamplesLeaf: c.minSamplesLeaf ?? 1,
      });
      if (c.expected === undefined) {
        expect(split).toBeUndefined();
        return;
      }
      expect(split).toMatchObject(c.expected);
      expect(split!.gain).toBeGreaterThan(0);
    });
  }
});
