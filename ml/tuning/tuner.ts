import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { fitOnWorker } from "../lifecycle/fit-on-worker.ts";
import { type TrainedVersion, trainTrackAndRegister } from "../lifecycle/train-model.ts";
import type { LabelledTrainingSet } from "../lifecycle/training-set-source.ts";
import type { ModelRegistry } from "../registry/model-registry.ts";
import { ensureExperiment, type TrackingStore } from "../tracking/tracking-store.ts";
import { packTrainingSet } from "../tree/training-set.ts";
import { sampleCandidates } from "./search-space.ts";
import type { Trial } from "./successive-halving.ts";
import type { TuningJob, TuningReply } from "./tuning-protocol.ts";

/**
 * A hyper-parameter search within a time budget: random candidates, successive halving over
 * the number of trees, every trial on a worker thread and logged as a nested run under one
 * tuning run; the best candidate is then trained on the whole training part and registered.
 * The worker is terminated when its budget (plus one grace period for the trial in progress)
 * is spent, so a search can never hold a core for longer than it was given.
 */
export interface TuningRequest {
  readonly model: string;
  readonly experiment: string;
  readonly set: LabelledTrainingSet;
  readonly candidates?: number;
  readonly kinds?: readonly ("gradient-boosting" | "random-forest")[];
  readonly seed?: number;
  readonly budgetMs: number;
  readonly minTrees?: number;
  readonly maxTrees?: number;
  readonly eta?: number;
  readonly holdoutFraction?: number;
  readonly by: string;
  readonly reason: string;
}

export interface TuningResult {
  readonly parentRunId: string;
  readonly best: Trial;
  readonly trials: number;
  readonly registered: TrainedVersion;
}

export async function tuneAndRegister(
  tracking: TrackingStore,
  registry: ModelRegistry,
  request: TuningRequest,
): Promise<TuningResult> {
  const experiment = await ensureExperiment(tracking, request.experiment);
  const parent = await tracking.createRun({
    experimentId: experiment.id,
    name: `${request.model}-tuning`,
    tags: {
      model: request.model,
      "platform.by": request.by,
      "platform.trigger": request.reason.slice(0, 500),
    },
  });
  const seed = request.seed ?? 7;
  const candidates = sampleCandidates(request.candidates ?? 12, seed, request.kinds);
  await tracking.logParams(parent.runId, {
    candidates: candidates.length,
    budget_ms: request.budgetMs,
    min_trees: request.minTrees ?? 20,
    max_trees: request.maxTrees ?? 180,
    eta: request.eta ?? 3,
    seed,
  });
  try {
    const { best, trials } = await runOnWorker(tracking, experiment.id, parent.runId, request, candidates);
    await tracking.logMetrics(parent.runId, [
      { key: "best_holdout_rmse", value: best.loss, step: 0, timestamp: Date.now() },
      { key: "trials", value: trials, step: 0, timestamp: Date.now() },
    ]);
    const registered = await trainTrackAndRegister(tracking, registry, {
      model: request.model,
      experiment: request.experiment,
      set: request.set,
      learner: best.candidate.learner,
      by: request.by,
      reason: `${request.reason} (best of ${trials} tuning trials)`,
      parentRunId: parent.runId,
      fit: fitOnWorker,
      ...(request.holdoutFraction === undefined ? {} : { holdoutFraction: request.holdoutFraction }),
    });
    await tracking.endRun(parent.runId, "FINISHED");
    return { parentRunId: parent.runId, best, trials, registered };
  } catch (error) {
    await tracking.endRun(parent.runId, "FAILED");
    throw error;
  }
}

function runOnWorker(
  tracking: TrackingStore,
  experimentId: string,
  parentRunId: string,
  request: TuningRequest,
  candidates: TuningJob["candidates"],
): Promise<{ best: Trial; trials: number }> {
  const packed = packTrainingSet(request.set);
  const deadline = Date.now() + request.budgetMs;
  const job: TuningJob = {
    type: "tune",
    matrix: packed.matrix,
    labels: packed.labels,
    rowCount: packed.rowCount,
    featureCount: packed.featureCount,
    featureNames: packed.featureNames,
    holdoutFraction: request.holdoutFraction ?? 0.2,
    candidates,
    minResource: request.minTrees ?? 20,
    maxResource: request.maxTrees ?? 180,
    eta: request.eta ?? 3,
    deadline,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./tuning-worker.ts", import.meta.url).href);
    let logging: Promise<void> = Promise.resolve();
    let bestSoFar: Trial | undefined;
    let count = 0;
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(hardStop);
      worker.terminate();
      // every nested run is written before the search answers
      logging.then(outcome, reject);
    };
    const hardStop = setTimeout(
      () =>
        finish(() =>
          bestSoFar
            ? resolve({ best: bestSoFar, trials: count })
            : reject(
                new PlatformError(
                  ErrorCodes.TRAINING_DATA_INVALID,
                  `no tuning trial finished within ${request.budgetMs} ms`,
                ),
              ),
        ),
      request.budgetMs + Math.max(5_000, request.budgetMs / 2),
    );
    worker.onmessage = (event: MessageEvent<TuningReply>) => {
      const reply = event.data;
      if (reply.type === "trial") {
        count++;
        const trial = reply.trial;
        if (
          !bestSoFar ||
          trial.rung > bestSoFar.rung ||
          (trial.rung === bestSoFar.rung && trial.loss < bestSoFar.loss)
        ) {
          bestSoFar = trial;
        }
        logging = logging.then(() => logTrial(tracking, experimentId, parentRunId, trial));
      } else if (reply.type === "done") {
        finish(() =>
          reply.best
            ? resolve({ best: reply.best, trials: reply.trials })
            : reject(
                new PlatformError(
                  ErrorCodes.TRAINING_DATA_INVALID,
                  `no tuning trial finished within ${request.budgetMs} ms`,
                ),
              ),
        );
      } else {
        finish(() =>
          reject(new PlatformError(ErrorCodes.TRAINING_DATA_INVALID, `tuning failed: ${reply.message}`)),
        );
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish(() =>
        reject(new PlatformError(ErrorCodes.INTERNAL, "the tuning worker crashed", { cause: event.message })),
      );
    };
    worker.postMessage(job, [job.matrix.buffer, job.labels.buffer]);
  });
}

async function logTrial(
  tracking: TrackingStore,
  experimentId: string,
  parentRunId: string,
  trial: Trial,
): Promise<void> {
  const run = await tracking.createRun({
    experimentId,
    name: `trial-${trial.candidate.id}-rung-${trial.rung}`,
    parentRunId,
    tags: { learner: trial.candidate.learner.kind, rung: String(trial.rung) },
  });
  const params: Record<string, string | number | boolean> = { candidate: trial.candidate.id };
  for (const [key, value] of Object.entries(trial.candidate.learner.params)) {
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "string")
      params[key] = value;
  }
  await tracking.logParams(run.runId, params);
  await tracking.logMetrics(run.runId, [
    {
      key: "holdout_rmse",
      value: Number.isFinite(trial.loss) ? trial.loss : Number.MAX_VALUE,
      step: trial.rung,
      timestamp: Date.now(),
    },
    { key: "trial_seconds", value: trial.millis / 1000, step: trial.rung, timestamp: Date.now() },
  ]);
  await tracking.endRun(run.runId, "FINISHED");
}
