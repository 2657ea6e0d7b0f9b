import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { parseParams } from "../tree/config-parse.ts";
import {
  binProportions,
  DEFAULT_PSI_EPSILON,
  jensenShannonDistance,
  psiOfProportions,
  quantileEdges,
} from "./distribution-distance.ts";
import { ksTwoSampleSorted } from "./ks-test.ts";
import { requireSize, sortedFinite } from "./sample.ts";

/**
 * The fewest observations per feature a drift verdict may rest on. Below it the tests say nothing
 * useful and yet can still report drift: the asymptotic KS p-value is 0 for any two samples that
 * do not overlap (scipy's asymp at 1 against 2, where the exact p is 2/3), and PSI over the
 * default ten bins leaves most bins empty, so a handful of values in range scores PSI >= 0.25.
 */
export const MIN_DRIFT_SAMPLE_SIZE = 10;

export const driftOptionsSchema = z.object({
  /** Significance level of the KS test for the whole report (see Bonferroni below). */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** A feature with PSI at or above this has drifted whatever the KS test says. */
  psiThreshold: z.number().gt(0).default(0.25),
  bins: z.number().int().min(2).max(100).default(10),
  epsilon: z.number().gt(0).max(0.01).default(DEFAULT_PSI_EPSILON),
  /**
   * Fewer finite values than this for any feature, in the reference or the current sample, is a
   * SAMPLE_TOO_SMALL error: no verdict. Never below MIN_DRIFT_SAMPLE_SIZE.
   */
  minSampleSize: z.number().int().min(MIN_DRIFT_SAMPLE_SIZE).default(30),
  /** Test each of k features at alpha / k, so the report's false-alarm rate stays <= alpha. */
  bonferroni: z.boolean().default(true),
});
export type DriftOptions = z.input<typeof driftOptionsSchema>;

export interface FeatureDrift {
  /** Two-sample KS statistic D in [0, 1]. */
  readonly ks: number;
  readonly pValue: number;
  readonly psi: number;
  /** Jensen-Shannon distance (base 2) in [0, 1] on the PSI bins. */
  readonly js: number;
  readonly driftDetected: boolean;
  readonly sampleSize: number;
}

export interface DriftReport {
  readonly perFeature: Readonly<Record<string, FeatureDrift>>;
  /** True when any feature drifted. */
  readonly overall: boolean;
  /**
   * max over features of max(KS D, JS distance): both are distances in [0, 1] between the
   * current and the reference distribution (0 = identical); a continuous figure to chart and
   * alert on, where `overall` is the yes/no decision.
   */
  readonly score: number;
  /** The smallest per-feature current sample size. */
  readonly sampleSize: number;
  readonly driftedFeatures: readonly string[];
}

interface FeatureReference {
  readonly sorted: Float64Array;
  readonly edges: Float64Array;
  readonly proportions: Float64Array;
}

/**
 * Feature drift against a training reference (design section 5.3): per feature a two-sample KS
 * test, PSI and Jensen-Shannon distance of the current sample against the reference sample.
 * A feature has drifted when p < alpha (alpha / k with Bonferroni over k features) or
 * PSI >= psiThreshold. The reference is sorted and binned once, at construction.
 */
export class DriftDetector {
  readonly features: readonly string[];
  private readonly options: z.output<typeof driftOptionsSchema>;
  private readonly references = new Map<string, FeatureReference>();

  constructor(reference: Readonly<Record<string, ArrayLike<number>>>, options: DriftOptions = {}) {
    this.options = parseParams(driftOptionsSchema, options, "drift options");
    this.features = Object.keys(reference);
    if (this.features.length === 0) {
      throw new PlatformError(ErrorCodes.FEATURE_MISSING, "a drift reference needs at least one feature");
    }
    for (const feature of this.features) {
      const sorted = sortedFinite(reference[feature]!);
      requireSize(sorted, this.options.minSampleSize, `reference sample of ${feature}`);
      const edges = quantileEdges(sorted, this.options.bins);
      this.references.set(feature, { sorted, edges, proportions: binProportions(sorted, edges) });
    }
  }

  detect(current: Readonly<Record<string, ArrayLike<number>>>): DriftReport {
    const { alpha, psiThreshold, epsilon, minSampleSize, bonferroni } = this.options;
    const featureAlpha = bonferroni ? alpha / this.features.length : alpha;
    const perFeature: Record<string, FeatureDrift> = {};
    const driftedFeatures: string[] = [];
    let score = 0;
    let sampleSize = Number.POSITIVE_INFINITY;
    for (const feature of this.features) {
      const values = current[feature];
      if (values === undefined) {
        throw new PlatformError(ErrorCodes.FEATURE_MISSING, `current sample has no feature ${feature}`, {
          details: { feature, expected: this.features },
        });
      }
      const reference = this.references.get(feature)!;
      const sorted = sortedFinite(values);
      requireSize(sorted, minSampleSize, `current sample of ${feature}`);
      const ks = ksTwoSampleSorted(reference.sorted, sorted);
      const proportions = binProportions(sorted, reference.edges);
      const psi = psiOfProportions(reference.proportions, proportions, epsilon);
      const js = jensenShannonDistance(reference.proportions, proportions);
      const driftDetected = ks.pValue < featureAlpha || psi >= psiThreshold;
      perFeature[feature] = {
        ks: ks.statistic,
        pValue: ks.pValue,
        psi,
        js,
        driftDetected,
        sampleSize: sorted.length,
      };
      if (driftDetected) driftedFeatures.push(feature);
      score = Math.max(score, ks.statistic, js);
      sampleSize = Math.min(sampleSize, sorted.length);
    }
    return { perFeature, overall: driftedFeatures.length > 0, score, sampleSize, driftedFeatures };
  }
}
