/**
 * A merging t-digest for approximate quantiles.
 *
 * Source: T. Dunning and O. Ertl, "Computing Extremely Accurate Quantiles Using t-Digests"
 * (2019), section 2.1 (the merging variant) with the k1 scale function
 *   k(q) = delta / (2 pi) * asin(2q - 1).
 * Incoming points go to a buffer; when it fills, the buffer is sorted and merged with the
 * existing centroids (already sorted) in one pass that lets a centroid grow while the k-size of
 * its quantile span stays <= 1. That keeps centroids small near q = 0 and q = 1, so tails are
 * much more accurate than the median. Two digests merge by the same pass over both centroid
 * lists, which is what session-window merges need.
 *
 * Quantile estimation interpolates between centroid centres, treating singleton centroids as
 * exact points and the observed min / max as the ends (the paper's section 2.9).
 */
const MAX_BUFFER_FACTOR = 4;

export class TDigest {
  readonly compression: number;
  private means: Float64Array;
  private weights: Float64Array;
  private centroids = 0;
  private spareMeans: Float64Array;
  private spareWeights: Float64Array;
  private buffer: Float64Array;
  private buffered = 0;
  private weight = 0;
  private minimum = Number.POSITIVE_INFINITY;
  private maximum = Number.NEGATIVE_INFINITY;

  constructor(compression = 100) {
    this.compression = compression;
    const capacity = Math.ceil(compression) + 8;
    this.means = new Float64Array(capacity);
    this.weights = new Float64Array(capacity);
    this.spareMeans = new Float64Array(capacity);
    this.spareWeights = new Float64Array(capacity);
    this.buffer = new Float64Array(16);
  }

  get count(): number {
    return this.weight;
  }

  get min(): number {
    return this.minimum;
  }

  get max(): number {
    return this.maximum;
  }

  add(value: number): void {
    if (this.buffered === this.buffer.length) {
      const limit = Math.ceil(this.compression * MAX_BUFFER_FACTOR);
      if (this.buffer.length < limit) {
        const grown = new Float64Array(Math.min(limit, this.buffer.length * 2));
        grown.set(this.buffer);
        this.buffer = grown;
      } else {
        this.compress();
      }
    }
    this.buffer[this.buffered++] = value;
    this.weight += 1;
    if (value < this.minimum) this.minimum = value;
    if (value > this.maximum) this.maximum = value;
  }

  /** Folds another digest into this one; `other` is compressed but otherwise unchanged. */
  merge(other: TDigest): void {
    if (other.weight === 0) return;
    other.compress();
    this.compress();
    this.mergePass(other.means, other.weights, other.centroids);
    if (other.minimum < this.minimum) this.minimum = other.minimum;
    if (other.maximum > this.maximum) this.maximum = other.maximum;
  }

  /** Merges the buffer into the centroids. */
  compress(): void {
    if (this.buffered === 0) return;
    const sorted = this.buffer.subarray(0, this.buffered).sort();
    this.buffered = 0;
    this.mergePass(sorted, null, sorted.length);
  }

  quantile(q: number): number {
    this.compress();
    const n = this.centroids;
    if (n === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    if (n === 1) return this.means[0]!;
    const total = this.weight;
    const index = q * total;
    if (index < 1) return this.minimum;
    if (index > total - 1) return this.maximum;
    const means = this.means;
    const weights = this.weights;
    const firstHalf = weights[0]! / 2;
    if (weights[0]! > 1 && index < firstHalf) {
      return this.minimum + ((index - 1) / (firstHalf - 1)) * (means[0]! - this.minimum);
    }
    let soFar = firstHalf;
    for (let i = 0; i < n - 1; i++) {
      const step = (weights[i]! + weights[i + 1]!) / 2;
      if (soFar + step > index) {
        let leftUnit = 0;
        if (weights[i] === 1) {
          if (index - soFar < 0.5) return means[i]!;
          leftUnit = 0.5;
        }
        let rightUnit = 0;
        if (weights[i + 1] === 1) {
          if (soFar + step - index <= 0.5) return means[i + 1]!;
          rightUnit = 0.5;
        }
        const z1 = index - soFar - leftUnit;
        const z2 = soFar + step - index - rightUnit;
        return interpolate(means[i]!, z2, means[i + 1]!, z1);
      }
      soFar += step;
    }
    const lastHalf = weights[n - 1]! / 2;
    const lastMean = means[n - 1]!;
    if (weights[n - 1]! <= 1 || lastHalf <= 1) return lastMean;
    const fraction = (index - (total - lastHalf)) / (lastHalf - 1);
    return lastMean + Math.min(1, Math.max(0, fraction)) * (this.maximum - lastMean);
  }

  /** The exact state, buffer included, so a restored digest answers exactly as this one would. */
  toJSON(): TDigestJson {
    return {
      compression: this.compression,
      means: Array.from(this.means.subarray(0, this.centroids)),
      weights: Array.from(this.weights.subarray(0, this.centroids)),
      buffer: Array.from(this.buffer.subarray(0, this.buffered)),
      min: this.weight === 0 ? null : this.minimum,
      max: this.weight === 0 ? null : this.maximum,
    };
  }

  static fromJSON(json: TDigestJson): TDigest {
    const digest = new TDigest(json.compression);
    const count = json.means.length;
    digest.ensureCapacity(count);
    for (let i = 0; i < count; i++) {
      digest.means[i] = json.means[i]!;
      digest.weights[i] = json.weights[i]!;
      digest.weight += json.weights[i]!;
    }
    digest.centroids = count;
    for (const value of json.buffer ?? []) {
      if (digest.buffered === digest.buffer.length) {
        const grown = new Float64Array(digest.buffer.length * 2);
        grown.set(digest.buffer);
        digest.buffer = grown;
      }
      digest.buffer[digest.buffered++] = value;
      digest.weight += 1;
    }
    if (json.min !== null) digest.minimum = json.min;
    if (json.max !== null) digest.maximum = json.max;
    return digest;
  }

  /**
   * One greedy pass over the union of the current centroids and a sorted run (weights null
   * means every point weighs 1), writing the new centroids into the spare arrays.
   */
  private mergePass(runMeans: Float64Array, runWeights: Float64Array | null, runCount: number): void {
    let total = 0;
    for (let i = 0; i < this.centroids; i++) total += this.weights[i]!;
    if (runWeights === null) total += runCount;
    else for (let i = 0; i < runCount; i++) total += runWeights[i]!;
    this.ensureCapacity(this.centroids + runCount);
    const outMeans = this.spareMeans;
    const outWeights = this.spareWeights;
    const normalizer = this.compression / (2 * Math.PI);
    let out = 0;
    let a = 0;
    let b = 0;
    let curMean = 0;
    let curWeight = 0;
    let soFar = 0;
    let qLimit = 0;
    while (a < this.centroids || b < runCount) {
      let mean: number;
      let weight: number;
      if (b >= runCount || (a < this.centroids && this.means[a]! <= runMeans[b]!)) {
        mean = this.means[a]!;
        weight = this.weights[a++]!;
      } else {
        mean = runMeans[b]!;
        weight = runWeights === null ? 1 : runWeights[b]!;
        b++;
      }
      if (curWeight === 0) {
        curMean = mean;
        curWeight = weight;
        qLimit = qLimitAfter(soFar / total, normalizer);
      } else if ((soFar + curWeight + weight) / total <= qLimit) {
        curWeight += weight;
        curMean += ((mean - curMean) * weight) / curWeight;
      } else {
        outMeans[out] = curMean;
        outWeights[out++] = curWeight;
        soFar += curWeight;
        curMean = mean;
        curWeight = weight;
        qLimit = qLimitAfter(soFar / total, normalizer);
      }
    }
    if (curWeight > 0) {
      outMeans[out] = curMean;
      outWeights[out++] = curWeight;
    }
    this.spareMeans = this.means;
    this.spareWeights = this.weights;
    this.means = outMeans;
    this.weights = outWeights;
    this.centroids = out;
    this.weight = total + this.buffered;
  }

  private ensureCapacity(count: number): void {
    if (this.spareMeans.length >= count && this.means.length >= count) return;
    const capacity = Math.max(count, this.means.length * 2);
    const means = new Float64Array(capacity);
    const weights = new Float64Array(capacity);
    means.set(this.means.subarray(0, this.centroids));
    weights.set(this.weights.subarray(0, this.centroids));
    this.means = means;
    this.weights = weights;
    this.spareMeans = new Float64Array(capacity);
    this.spareWeights = new Float64Array(capacity);
  }
}

export interface TDigestJson {
  readonly compression: number;
  readonly means: readonly number[];
  readonly weights: readonly number[];
  /** points not yet merged into centroids (weight 1 each) */
  readonly buffer?: readonly number[];
  readonly min: number | null;
  readonly max: number | null;
}

/** The largest q a centroid starting at q0 may reach: k^-1(k(q0) + 1) for the k1 scale. */
function qLimitAfter(q0: number, normalizer: number): number {
  const k = normalizer * Math.asin(2 * q0 - 1) + 1;
  if (k >= normalizer * (Math.PI / 2)) return 1;
  return (Math.sin(k / normalizer) + 1) / 2;
}

function interpolate(x1: number, w1: number, x2: number, w2: number): number {
  const value = (x1 * w1 + x2 * w2) / (w1 + w2);
  return Math.max(Math.min(x1, x2), Math.min(value, Math.max(x1, x2)));
}
