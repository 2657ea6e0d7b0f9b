/// <reference lib="webworker" />
import { isPlatformError } from "../../messages/errors.ts";
import type { TrainingSet } from "../tree/training-set.ts";
import { fitLearner, type LearnerSpec } from "./learner.ts";

/** Fits one learner off the main thread and sends the serialised ensemble back. */
declare const self: Worker;

export interface FitJob {
  readonly matrix: Float64Array;
  readonly labels: Float64Array;
  readonly rowCount: number;
  readonly featureCount: number;
  readonly featureNames: readonly string[];
  readonly learner: LearnerSpec;
}

export type FitReply =
  | { readonly ok: true; readonly model: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

self.onmessage = (event: MessageEvent<FitJob>) => {
  const job = event.data;
  try {
    const rows = Array.from({ length: job.rowCount }, (_, i) =>
      job.matrix.subarray(i * job.featureCount, (i + 1) * job.featureCount),
    );
    const set: TrainingSet = { rows, labels: job.labels, featureNames: job.featureNames };
    self.postMessage({ ok: true, model: fitLearner(set, job.learner).toJSON() } satisfies FitReply);
  } catch (error) {
    self.postMessage({
      ok: false,
      code: isPlatformError(error) ? error.code : "INTERNAL",
      message: isPlatformError(error) ? error.message : "training failed on the worker",
    } satisfies FitReply);
  }
};
