import { z } from "zod";
import { SeededRandom } from "../tree/random.ts";
import {
  type AnomalyDetector,
  type AnomalyInput,
  asVector,
  type DetectorSnapshot,
} from "./anomaly-detector.ts";

export const halfSpaceTreesConfigSchema = z
  .object({
    kind: z.literal("half-space-trees"),
    /** Expected [min, max] of each dimension; values outside still work, less finely. */
    featureRanges: z
      .array(z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, "min must be below max"))
      .min(1)
      .max(64),
    nTrees: z.number().int().min(1).max(100).default(25),
    /** Tree depth; memory is nTrees x (2^(depth+1) - 1) x 17 bytes (defaults: ~0.87 MB). */
    depth: z.number().int().min(1).max(16).default(10),
    /** Points per reference window (the paper's psi). */
    windowSize: z.number().int().min(10).max(100_000).default(250),
    /** Stop descending at a node whose reference mass is below this; default 0.1 x windowSize. */
    sizeLimit: z.number().min(0).optional(),
    seed: z.number().int().default(42),
  })
  .transform((c) => ({ ...c, sizeLimit: c.sizeLimit ?? 0.1 * c.windowSize }));
export type HalfSpaceTreesConfig = z.output<typeof halfSpaceTreesConfigSchema>;

/** exp(-CALIBRATION * raw / typical raw): typical points score ~0.02, empty regions ~1. */
const CALIBRATION = 4;

/**
 * Half-Space Trees (Tan, Ting & Liu, "Fast Anomaly Detection for Streaming Data", IJCAI 2011).
 * Each tree is a full binary tree over a random "work space" around the feature ranges; each
 * node halves its space on a random dimension. Nodes count points: `reference` mass r from the
 * last complete window, `latest` mass l from the window being filled; when a window of
 * windowSize points completes, l becomes r and l restarts at 0.
 * Raw score (the paper's): sum over trees of r(node) x 2^depth(node) at the node where x's
 * path stops (depth limit, or r < sizeLimit). High raw = dense region = normal.
 * Normalised score (ours): dividing by the maximum possible raw score (as River does) crowds
 * every normal point near the same value, so instead the raw score is compared with the median
 * raw score of the reference window's own points (computed at each window swap):
 * score = exp(-4 raw / median). A typical point scores ~0.02, one at half the typical mass
 * ~0.14, one in an empty region 1.
 * Warm-up: scores 0 until the first window completes (windowSize updates).
 * Tree structure comes from `seed`, so a snapshot stores masses and the window, not the trees.
 */
export class HalfSpaceTrees implements AnomalyDetector {
  readonly kind = "half-space-trees";
  readonly dimensions: number;
  private readonly nodesPerTree: number;
  private readonly splitFeature: Uint8Array;
  private readonly splitValue: Float64Array;
  private reference: Uint32Array;
  private latest: Uint32Array;
  private readonly window: Float64Array;
  private readonly scratch: Float64Array;
  private count = 0;
  private typicalRaw = 0;

  constructor(readonly config: HalfSpaceTreesConfig) {
    this.dimensions = config.featureRanges.length;
    this.nodesPerTree = 2 ** (config.depth + 1) - 1;
    const total = config.nTrees * this.nodesPerTree;
    this.splitFeature = new Uint8Array(total);
    this.splitValue = new Float64Array(total);
    this.reference = new Uint32Array(total);
    this.latest = new Uint32Array(total);
    this.window = new Float64Array(config.windowSize * this.dimensions);
    this.scratch = new Float64Array(this.dimensions);
    this.buildTrees(new SeededRandom(config.seed));
  }

  get warmedUp(): boolean {
    return this.count >= this.config.windowSize;
  }

  score(x: AnomalyInput): number {
    const point = asVector(x, this.dimensions, this.scratch);
    if (!this.warmedUp) return 0;
    const raw = this.rawScore(point, 0);
    if (this.typicalRaw <= 0) return raw > 0 ? 0 : 1;
    return Math.exp((-CALIBRATION * raw) / this.typicalRaw);
  }

  update(x: AnomalyInput): void {
    const point = asVector(x, this.dimensions, this.scratch);
    const { nTrees, depth, windowSize } = this.config;
    for (let t = 0; t < nTrees; t++) {
      const base = t * this.nodesPerTree;
      let node = 0;
      for (let d = 0; d <= depth; d++) {
        this.latest[base + node]!++;
        if (d === depth) break;
        node =
          point[this.splitFeature[base + node]!]! <= this.splitValue[base + node]!
            ? 2 * node + 1
            : 2 * node + 2;
      }
    }
    this.window.set(point, (this.count % windowSize) * this.dimensions);
    this.count++;
    if (this.count % windowSize === 0) this.swapWindows();
  }

  snapshot(): DetectorSnapshot {
    const { kind: _kind, ...config } = this.config;
    return {
      kind: this.kind,
      config,
      state: {
        count: this.count,
        typicalRaw: this.typicalRaw,
        reference: Array.from(this.reference),
        latest: Array.from(this.latest),
        window: Array.from(this.window),
      },
    };
  }

  restoreState(state: {
    count: number;
    typicalRaw: number;
    reference: number[];
    latest: number[];
    window: number[];
  }): void {
    this.count = state.count;
    this.typicalRaw = state.typicalRaw;
    this.reference.set(state.reference);
    this.latest.set(state.latest);
    this.window.set(state.window);
  }

  get stateSizes(): { masses: number; window: number } {
    return { masses: this.reference.length, window: this.window.length };
  }

  private rawScore(point: Float64Array, offset: number): number {
    const { nTrees, depth, sizeLimit } = this.config;
    let raw = 0;
    for (let t = 0; t < nTrees; t++) {
      const base = t * this.nodesPerTree;
      let node = 0;
      let d = 0;
      while (d < depth && this.reference[base + node]! >= sizeLimit) {
        const feature = this.splitFeature[base + node]!;
        node = point[offset + feature]! <= this.splitValue[base + node]! ? 2 * node + 1 : 2 * node + 2;
        d++;
      }
      raw += this.reference[base + node]! * 2 ** d;
    }
    return raw;
  }

  private swapWindows(): void {
    const previous = this.reference;
    this.reference = this.latest;
    this.latest = previous;
    this.latest.fill(0);
    const { windowSize } = this.config;
    const raws = new Float64Array(windowSize);
    for (let i = 0; i < windowSize; i++) raws[i] = this.rawScore(this.window, i * this.dimensions);
    raws.sort();
    this.typicalRaw = raws[windowSize >>> 1]!;
  }

  /** The paper's BuildSingleHS-Tree over a random work space around each dimension's range. */
  private buildTrees(random: SeededRandom): void {
    const { nTrees, depth, featureRanges } = this.config;
    const low = new Float64Array(this.dimensions);
    const high = new Float64Array(this.dimensions);
    for (let t = 0; t < nTrees; t++) {
      for (let q = 0; q < this.dimensions; q++) {
        const [min, max] = featureRanges[q]!;
        const s = min + random.next() * (max - min);
        const half = 2 * Math.max(s - min, max - s);
        low[q] = s - half;
        high[q] = s + half;
      }
      this.buildNode(t * this.nodesPerTree, 0, 0, depth, low, high, random);
    }
  }

  private buildNode(
    base: number,
    node: number,
    d: number,
    depth: number,
    low: Float64Array,
    high: Float64Array,
    random: SeededRandom,
  ): void {
    if (d === depth) return;
    const q = random.nextInt(this.dimensions);
    const middle = (low[q]! + high[q]!) / 2;
    this.splitFeature[base + node] = q;
    this.splitValue[base + node] = middle;
    const savedHigh = high[q]!;
    high[q] = middle;
    this.buildNode(base, 2 * node + 1, d + 1, depth, low, high, random);
    high[q] = savedHigh;
    const savedLow = low[q]!;
    low[q] = middle;
    this.buildNode(base, 2 * node + 2, d + 1, depth, low, high, random);
    low[q] = savedLow;
  }
}
