import type { LearnerSpec } from "../../ml/lifecycle/learner.ts";
import type { PairedComparisonOptions } from "../../ml/monitoring/paired-comparison.ts";

/**
 * When a model retrains and how its challenger is judged, per model. Triggers: a change
 * detector on the live error (concept drift), a performance drop (recent MAE past a multiple of
 * the holdout MAE the version was registered with), enough new labelled outcomes, a schedule,
 * or an operator. The challenger goes to shadow (scores the champion's inputs, never served) and
 * is promoted when a non-inferiority test on the paired live errors says it is not worse; it is
 * rolled back when the test says worse, when no verdict comes in time, when its failures pass
 * `maxFailureRate`, or when its p99 scoring latency passes `maxP99Ms`. After a promotion the
 * new champion is on probation: worse than its predecessor's live error by `rollbackRatio` over
 * `probationOutcomes` outcomes and the predecessor comes back. After a rollback the automatic
 * triggers rest for twice the comparison's minimum of outcomes, so the loop does not flap.
 */
export interface RetrainPolicy {
  readonly learner: LearnerSpec;
  readonly experiment: string;
  readonly triggers: {
    readonly onErrorDrift: boolean;
    /** recent MAE > this x the version's holdout MAE (with at least `minRecent` outcomes) */
    readonly performanceRatio?: number;
    readonly minRecent?: number;
    /** labelled outcomes since the last training */
    readonly newLabels?: number;
    readonly everyMs?: number;
    /** after a drift or performance trigger, labelled outcomes of the new regime to wait for before training */
    readonly postChangeLabels?: number;
  };
  readonly comparison: PairedComparisonOptions;
  readonly maxFailureRate: number;
  readonly maxP99Ms: number;
  readonly probationOutcomes: number;
  readonly rollbackRatio: number;
}

export const DEFAULT_RETRAIN_POLICY: Omit<RetrainPolicy, "learner" | "experiment"> = {
  triggers: { onErrorDrift: true, performanceRatio: 1.5, minRecent: 200, postChangeLabels: 400 },
  comparison: { margin: 0.02, minOutcomes: 200, maxOutcomes: 5_000 },
  maxFailureRate: 0.01,
  maxP99Ms: 50,
  probationOutcomes: 300,
  rollbackRatio: 1.25,
};
