import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The most recent `capacity` values of one feature, in a ring: O(1) push, bounded memory. The
 * drift monitor compares this recent sample with the training reference. Non-finite values are
 * refused (push returns false and `rejected` counts them) so they cannot poison the statistics.
 */
export class FeatureWindow {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  rejected = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `window capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.ring = new Float64Array(capacity);
  }

  get size(): number {
    return this.filled;
  }

  push(value: number): boolean {
    if (!Number.isFinite(value)) {
      this.rejected++;
      return false;
    }
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
    return true;
  }

  /** A copy of the held values, oldest first. */
  values(): Float64Array {
    const out = new Float64Array(this.filled);
    const start = this.filled < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.filled; i++) out[i] = this.ring[(start + i) % this.capacity]!;
    return out;
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}

/** One FeatureWindow per named feature, fed whole feature vectors (as the model sees them). */
export class FeatureWindows {
  private readonly windows: FeatureWindow[];

  constructor(
    readonly featureNames: readonly string[],
    capacity: number,
  ) {
    this.windows = featureNames.map(() => new FeatureWindow(capacity));
  }

  /** Appends one vector, in featureNames order. A vector of the wrong length is FEATURE_MISSING. */
  push(vector: ArrayLike<number>): void {
    if (vector.length !== this.windows.length) {
      throw new PlatformError(
        ErrorCodes.FEATURE_MISSING,
        `feature vector has ${vector.length} values, expected ${this.windows.length}`,
      );
    }
    for (let j = 0; j < vector.length; j++) this.windows[j]!.push(vector[j]!);
  }

  get size(): number {
    return Math.min(...this.windows.map((w) => w.size));
  }

  /** The recent sample per feature, ready for DriftDetector.detect. */
  sample(): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    this.featureNames.forEach((name, j) => {
      out[name] = this.windows[j]!.values();
    });
    return out;
  }
}
