import {
  binProportions,
  jensenShannonDistance,
  psiOfProportions,
  quantileEdges,
} from "../drift/distribution-distance.ts";
import { ksTwoSample } from "../drift/ks-test.ts";
import { sortedFinite } from "../drift/sample.ts";
import { wassersteinDistance } from "../drift/wasserstein.ts";

/**
 * Data drift per feature, and prediction drift: the recent inputs a version scored against the
 * sample of its training values kept with the run (`reference.json`), and its recent outputs
 * against its outputs on that sample. Four measures each, as the issue asks: KS (statistic and
 * p-value), PSI and Jensen-Shannon distance over ten reference-quantile bins, and the
 * Wasserstein distance in the feature's units. A feature drifts when KS says so at `pValue`
 * and PSI passes `psi` (both: KS alone flags tiny shifts on large samples, PSI alone is noisy on
 * small ones).
 */
export interface DriftMeasure {
  readonly name: string;
  readonly ks: number;
  readonly pValue: number;
  readonly psi: number;
  readonly js: number;
  readonly wasserstein: number;
  readonly sampleSize: number;
  readonly drifted: boolean;
}

export interface DriftThresholds {
  readonly pValue: number;
  readonly psi: number;
  readonly minSample: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = { pValue: 0.01, psi: 0.25, minSample: 100 };

export function measureDrift(
  name: string,
  reference: ArrayLike<number>,
  recent: ArrayLike<number>,
  thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
): DriftMeasure | undefined {
  const sortedReference = sortedFinite(reference);
  const sortedRecent = sortedFinite(recent);
  if (sortedReference.length < thresholds.minSample || sortedRecent.length < thresholds.minSample)
    return undefined;
  const ks = ksTwoSample(sortedReference, sortedRecent);
  const edges = quantileEdges(sortedReference, 10);
  const p = binProportions(sortedReference, edges);
  const q = binProportions(sortedRecent, edges);
  const psi = psiOfProportions(p, q);
  return {
    name,
    ks: ks.statistic,
    pValue: ks.pValue,
    psi,
    js: jensenShannonDistance(p, q),
    wasserstein: wassersteinDistance(sortedReference, sortedRecent),
    sampleSize: sortedRecent.length,
    drifted: ks.pValue < thresholds.pValue && psi > thresholds.psi,
  };
}
