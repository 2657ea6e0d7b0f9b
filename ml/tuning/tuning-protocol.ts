import type { Candidate } from "./search-space.ts";
import type { Trial } from "./successive-halving.ts";

/** Messages between the tuner (main thread) and its worker. The matrix is transferred, not copied. */
export interface TuningJob {
  readonly type: "tune";
  readonly matrix: Float64Array;
  readonly labels: Float64Array;
  readonly rowCount: number;
  readonly featureCount: number;
  readonly featureNames: readonly string[];
  readonly holdoutFraction: number;
  readonly candidates: readonly Candidate[];
  readonly minResource: number;
  readonly maxResource: number;
  readonly eta: number;
  /** epoch ms */
  readonly deadline: number;
}

export type TuningReply =
  | { readonly type: "trial"; readonly trial: Trial }
  | { readonly type: "done"; readonly best: Trial | undefined; readonly trials: number }
  | { readonly type: "failed"; readonly code: string; readonly message: string };
