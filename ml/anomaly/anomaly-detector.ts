import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/** One observation: a scalar stream value, or a vector for multi-dimensional detectors. */
export type AnomalyInput = number | Float64Array | readonly number[];

/**
 * An online anomaly detector over one stream. The order on a stream is score-then-learn: call
 * `score(x)` first (x judged only against the past), then `update(x)`; `scoreThenLearn` does
 * both. A score is in [0, 1]: near 0 ordinary, above ~0.8 anomalous. While a detector is still
 * warming up (`warmedUp` false) it scores 0. Non-finite input is an OUT_OF_RANGE error and a
 * vector of the wrong length a FEATURE_MISSING error, from both methods, and leaves the state
 * untouched. `snapshot()` is plain JSON; `restoreDetector` (detector-factory.ts) rebuilds an
 * equivalent detector that continues the stream exactly.
 */
export interface AnomalyDetector {
  readonly kind: string;
  readonly dimensions: number;
  readonly warmedUp: boolean;
  score(x: AnomalyInput): number;
  update(x: AnomalyInput): void;
  snapshot(): DetectorSnapshot;
}

export interface DetectorSnapshot {
  readonly kind: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly state: Readonly<Record<string, unknown>>;
}

export function scoreThenLearn(detector: AnomalyDetector, x: AnomalyInput): number {
  const score = detector.score(x);
  detector.update(x);
  return score;
}

/** Checks an input and returns it as a vector of `dimensions` finite numbers. */
export function asVector(x: AnomalyInput, dimensions: number, scratch: Float64Array): Float64Array {
  if (typeof x === "number") {
    if (dimensions !== 1) {
      throw new PlatformError(
        ErrorCodes.FEATURE_MISSING,
        `got a scalar, the detector expects ${dimensions} values`,
      );
    }
    scratch[0] = x;
  } else {
    if (x.length !== dimensions) {
      throw new PlatformError(
        ErrorCodes.FEATURE_MISSING,
        `got ${x.length} values, the detector expects ${dimensions}`,
      );
    }
    for (let j = 0; j < dimensions; j++) scratch[j] = x[j]!;
  }
  for (let j = 0; j < dimensions; j++) {
    if (!Number.isFinite(scratch[j]!)) {
      throw new PlatformError(
        ErrorCodes.OUT_OF_RANGE,
        `anomaly detector input ${j} is ${scratch[j]}, not a finite number`,
      );
    }
  }
  return scratch;
}
