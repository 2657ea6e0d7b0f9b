/// <reference lib="webworker" />
import { isPlatformError } from "../../messages/errors.ts";
import { evaluateOn, fitLearner, type LearnerSpec, splitByTime } from "../lifecycle/learner.ts";
import type { TrainingSet } from "../tree/training-set.ts";
import { successiveHalving } from "./successive-halving.ts";
import type { TuningJob, TuningReply } from "./tuning-protocol.ts";

/**
 * The tuning worker: runs a whole successive-halving search off the main thread (a trial is
 * seconds of CPU; on the main thread it would stall the node's I/O) and reports each trial as it
 * ends, so the tuner can log it as a nested run while the next one trains.
 */
declare const self: Worker;

self.onmessage = (event: MessageEvent<TuningJob>) => {
  const job = event.data;
  const reply = (message: TuningReply) => self.postMessage(message);
  try {
    const rows = Array.from({ length: job.rowCount }, (_, i) =>
      job.matrix.subarray(i * job.featureCount, (i + 1) * job.featureCount),
    );
    const set: TrainingSet = { rows, labels: job.labels, featureNames: job.featureNames };
    const { train, holdout } = splitByTime(set, job.holdoutFraction);
    const withTrees = (learner: LearnerSpec, nTrees: number): LearnerSpec =>
      learner.kind === "gradient-boosting"
        ? { kind: learner.kind, params: { ...learner.params, nTrees } }
        : { kind: learner.kind, params: { ...learner.params, nTrees } };
    const result = successiveHalving(
      job.candidates,
      (candidate, resource) =>
        evaluateOn(fitLearner(train, withTrees(candidate.learner, resource)), holdout).rmse,
      {
        minResource: job.minResource,
        maxResource: job.maxResource,
        eta: job.eta,
        deadline: job.deadline,
        now: Date.now,
      },
      (trial) =>
        reply({
          type: "trial",
          trial: {
            ...trial,
            candidate: { ...trial.candidate, learner: withTrees(trial.candidate.learner, trial.resource) },
          },
        }),
    );
    const best = result.best && {
      ...result.best,
      candidate: {
        ...result.best.candidate,
        learner: withTrees(result.best.candidate.learner, result.best.resource),
      },
    };
    reply({ type: "done", best, trials: result.trials.length });
  } catch (error) {
    reply({
      type: "failed",
      code: isPlatformError(error) ? error.code : "INTERNAL",
      message: isPlatformError(error) ? error.message : "the tuning worker failed",
    });
  }
};
