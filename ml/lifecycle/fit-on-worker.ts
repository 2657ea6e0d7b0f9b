import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { packTrainingSet, type TrainingSet } from "../tree/training-set.ts";
import { TreeEnsemble } from "../tree/tree-ensemble.ts";
import type { LearnerSpec } from "./learner.ts";
import type { FitJob, FitReply } from "./training-worker.ts";

/**
 * Trains on a worker thread of its own, so a retrain never holds the node's main thread (its
 * HTTP answers, the log, the actors there). A worker per job: training is rare and seconds
 * long, so a pool would only keep threads idle.
 */
export function fitOnWorker(
  set: TrainingSet,
  learner: LearnerSpec,
  timeoutMs = 10 * 60_000,
): Promise<TreeEnsemble> {
  const packed = packTrainingSet(set);
  const job: FitJob = {
    matrix: packed.matrix,
    labels: packed.labels,
    rowCount: packed.rowCount,
    featureCount: packed.featureCount,
    featureNames: packed.featureNames,
    learner,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./training-worker.ts", import.meta.url).href);
    const timer = setTimeout(() => {
      worker.terminate();
      reject(
        new PlatformError(
          ErrorCodes.TRAINING_DATA_INVALID,
          `training took longer than ${timeoutMs} ms and was stopped`,
        ),
      );
    }, timeoutMs);
    worker.onmessage = (event: MessageEvent<FitReply>) => {
      clearTimeout(timer);
      worker.terminate();
      const reply = event.data;
      if (reply.ok) resolve(TreeEnsemble.fromJSON(reply.model));
      else reject(new PlatformError(ErrorCodes.TRAINING_DATA_INVALID, `training failed: ${reply.message}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      clearTimeout(timer);
      worker.terminate();
      reject(new PlatformError(ErrorCodes.INTERNAL, "the training worker crashed", { cause: event.message }));
    };
    worker.postMessage(job, [job.matrix.buffer, job.labels.buffer]);
  });
}
