import type { LearnerSpec } from "../lifecycle/learner.ts";
import { SeededRandom } from "../tree/random.ts";

/**
 * What the search may try: log-uniform learning rates and leaf penalties, uniform integers for
 * depth and leaf size, fractions for row and feature sampling; trees are the resource that
 * successive halving hands out, so they are not sampled. Forests draw depth, leaf size and
 * feature fraction. Draws are seeded: the same seed tries the same candidates.
 */
export interface Candidate {
  readonly id: number;
  readonly learner: LearnerSpec;
}

export function sampleCandidates(
  count: number,
  seed: number,
  kinds: readonly LearnerSpec["kind"][] = ["gradient-boosting"],
): Candidate[] {
  const random = new SeededRandom(seed);
  const logUniform = (low: number, high: number) =>
    Math.exp(Math.log(low) + random.next() * (Math.log(high) - Math.log(low)));
  const integer = (low: number, high: number) => low + random.nextInt(high - low + 1);
  const fraction = (low: number) => low + random.next() * (1 - low);
  return Array.from({ length: count }, (_, id) => {
    const kind = kinds[id % kinds.length]!;
    const learner: LearnerSpec =
      kind === "gradient-boosting"
        ? {
            kind,
            params: {
              learningRate: round(logUniform(0.02, 0.3)),
              maxDepth: integer(3, 10),
              minSamplesLeaf: integer(2, 50),
              subsample: round(fraction(0.5)),
              featureFraction: round(fraction(0.5)),
              l2: round(logUniform(0.01, 10)),
              maxBins: 64,
              seed: seed + id,
            },
          }
        : {
            kind,
            params: {
              maxDepth: integer(4, 16),
              minSamplesLeaf: integer(1, 30),
              featureFraction: round(fraction(0.3)),
              maxBins: 64,
              seed: seed + id,
            },
          };
    return { id, learner };
  });
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}
