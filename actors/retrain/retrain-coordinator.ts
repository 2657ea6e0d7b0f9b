import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";
import { fitOnWorker } from "../../ml/lifecycle/fit-on-worker.ts";
import { trainTrackAndRegister } from "../../ml/lifecycle/train-model.ts";
import type { TrainingSetSource } from "../../ml/lifecycle/training-set-source.ts";
import { type ComparisonVerdict, PairedComparison } from "../../ml/monitoring/paired-comparison.ts";
import { CHALLENGER, CHAMPION, type ModelRegistry } from "../../ml/registry/model-registry.ts";
import type { RoutingPolicy } from "../../ml/serving/routing-policy.ts";
import type { TrackingStore } from "../../ml/tracking/tracking-store.ts";
import type { ModelEvent } from "../model-shard/model-events.ts";
import { type ModelServing, type Outcome, p99LatencyMs } from "../model-shard/model-serving.ts";
import type { RetrainPolicy } from "./retrain-policy.ts";

/**
 * The retraining loop, per model: idle -> training -> shadow -> promoted (probation) -> idle,
 * or -> rolled back -> idle. At most one retrain per model is in flight: a trigger while one
 * runs is a `retrain-skipped` event, not a second job. Every step is an event (the feed and the
 * audit trail) and every alias change a registry transition with who and why. Training runs on a
 * worker thread; the steps that touch the registry and the serving policy are chained, so a
 * verdict never races its own promotion.
 */
export type LoopStage =
  | { readonly stage: "idle" }
  /** a change was seen: waiting for enough labelled outcomes of the new regime to train on */
  | { readonly stage: "collecting"; readonly reason: string; readonly by: string; remaining: number }
  | { readonly stage: "training"; readonly reason: string }
  | {
      readonly stage: "shadow";
      readonly champion: string;
      readonly challenger: string;
      readonly comparison: PairedComparison;
    }
  | {
      readonly stage: "probation";
      readonly champion: string;
      readonly previous: string;
      /** previous as the reference, the new champion as the one that may be worse */
      readonly comparison: PairedComparison;
    };

export interface RetrainDeps {
  readonly serving: ModelServing;
  readonly registry: ModelRegistry;
  readonly tracking: TrackingStore;
  readonly source: TrainingSetSource;
  readonly now: () => number;
  readonly onEvent: (event: ModelEvent) => void;
  /** default: a worker thread per job */
  readonly fit?: typeof fitOnWorker;
}

interface ManagedModel {
  readonly policy: RetrainPolicy;
  stage: LoopStage;
  /** the chain of steps; a new step starts when the last one settled */
  work: Promise<void>;
  labelsSinceTraining: number;
  lastTrainingAt: number;
  lastDriftDetections: number;
  /** outcomes to let pass before the next automatic trigger (after a rollback: no flapping) */
  quietOutcomes: number;
}

const BY = "retrain-loop";

export class RetrainCoordinator {
  private readonly models = new Map<string, ManagedModel>();

  constructor(private readonly deps: RetrainDeps) {
    deps.serving.onOutcome((outcome) => this.onOutcome(outcome));
  }

  manage(model: string, policy: RetrainPolicy): void {
    this.models.set(model, {
      policy,
      stage: { stage: "idle" },
      work: Promise.resolve(),
      labelsSinceTraining: 0,
      lastTrainingAt: this.deps.now(),
      lastDriftDetections: 0,
      quietOutcomes: 0,
    });
  }

  /**
   * After a restart: the node serves the policy it kept, but the loop starts idle. A shadow the
   * loop had running (the challenger alias on the shadowed version) or a probation (the previous
   * champion shadowing the new one) starts again here, its comparison from no outcomes: those
   * were in memory. Without this the shadow was served for ever and never judged. Call after the
   * kept policy is deployed.
   */
  resume(model: string): Promise<void> {
    const managed = this.models.get(model);
    if (!managed) return Promise.resolve();
    this.chain(model, managed, async () => {
      const policy = this.deps.serving.policyOf(model);
      if (managed.stage.stage !== "idle" || policy?.kind !== "shadow") return;
      const champion = await this.championOf(model);
      if (champion !== policy.champion) return; // an operator's shadow, not the loop's
      const challenger = await this.aliasOf(model, CHALLENGER);
      const reason = "resumed after a restart; the comparison starts again";
      if (challenger === policy.shadow) {
        managed.stage = {
          stage: "shadow",
          champion,
          challenger,
          comparison: new PairedComparison(managed.policy.comparison),
        };
        this.emit({ type: "shadow-started", model, version: challenger, previous: champion, by: BY, reason });
      } else if (challenger === undefined && (await this.lastPromotedBy(model)) === BY) {
        managed.stage = {
          stage: "probation",
          champion,
          previous: policy.shadow,
          comparison: this.probationComparison(managed.policy),
        };
      }
    });
    return managed.work;
  }

  stageOf(model: string): LoopStage["stage"] | undefined {
    return this.models.get(model)?.stage.stage;
  }

  /** Resolves when every step started so far has finished (tests, the drill, stop). */
  async settled(): Promise<void> {
    for (const managed of this.models.values()) await managed.work;
  }

  /**
   * Starts a retrain unless one is in flight; false (and a retrain-skipped event) when one is.
   * `collect`: labelled outcomes to wait for first. A change in the error is seen after a few
   * dozen outcomes of the new regime; a model trained right then would have almost none of them
   * to learn from, and lose its shadow comparison.
   */
  trigger(model: string, reason: string, by = BY, collect = 0): boolean {
    const managed = this.models.get(model);
    if (!managed) return false;
    if (managed.stage.stage !== "idle") {
      this.emit({
        type: "retrain-skipped",
        model,
        by,
        reason: `${reason}; a retrain is already ${managed.stage.stage}`,
      });
      return false;
    }
    this.emit({
      type: "retrain-triggered",
      model,
      by,
      reason: collect > 0 ? `${reason}; training after ${collect} more labelled outcomes` : reason,
    });
    if (collect > 0) {
      managed.stage = { stage: "collecting", reason, by, remaining: collect };
      return true;
    }
    this.startTraining(model, managed, reason, by);
    return true;
  }

  private startTraining(model: string, managed: ManagedModel, reason: string, by: string): void {
    managed.stage = { stage: "training", reason };
    this.chain(model, managed, () => this.retrain(model, managed, reason, by));
  }

  /** The schedule trigger: call periodically. */
  tick(): void {
    for (const [model, managed] of this.models) {
      const every = managed.policy.triggers.everyMs;
      if (
        every !== undefined &&
        managed.stage.stage === "idle" &&
        this.deps.now() - managed.lastTrainingAt >= every
      ) {
        this.trigger(model, `schedule: ${every} ms since the last training`, "schedule");
      }
    }
  }

  private onOutcome(outcome: Outcome): void {
    const managed = this.models.get(outcome.model);
    if (!managed) return;
    managed.labelsSinceTraining++;
    const stage = managed.stage;
    if (stage.stage === "collecting") {
      stage.remaining--;
      if (stage.remaining <= 0) this.startTraining(outcome.model, managed, stage.reason, stage.by);
      return;
    }
    if (stage.stage === "shadow") {
      const champion = outcome.values.get(stage.champion);
      const challenger = outcome.values.get(stage.challenger);
      if (champion === undefined || challenger === undefined) return;
      stage.comparison.observe(champion, challenger, outcome.actual);
      const guard = this.challengerGuard(outcome.model, stage.challenger, managed.policy);
      const verdict = stage.comparison.verdict();
      if (guard !== undefined)
        this.settle(outcome.model, managed, stage, { verdict: "worse-guard", reason: guard });
      else if (verdict.verdict !== "pending")
        this.settle(outcome.model, managed, stage, { verdict: verdict.verdict, detail: verdict });
      return;
    }
    if (stage.stage === "probation") {
      const champion = outcome.values.get(stage.champion);
      const previous = outcome.values.get(stage.previous);
      if (champion === undefined || previous === undefined) return;
      stage.comparison.observe(previous, champion, outcome.actual);
      const verdict = stage.comparison.verdict();
      if (verdict.verdict === "worse" || verdict.outcomes >= managed.policy.probationOutcomes) {
        this.endProbation(outcome.model, managed, stage, verdict);
      }
      return;
    }
    if (stage.stage === "idle") this.checkTriggers(outcome, managed);
  }

  private checkTriggers(outcome: Outcome, managed: ManagedModel): void {
    const { triggers } = managed.policy;
    const live = this.deps.serving.liveOf(outcome.model, outcome.served);
    if (!live) return;
    if (managed.quietOutcomes > 0) {
      managed.quietOutcomes--;
      managed.lastDriftDetections = live.errorDriftDetections;
      return;
    }
    if (triggers.onErrorDrift && live.errorDriftDetections > managed.lastDriftDetections) {
      managed.lastDriftDetections = live.errorDriftDetections;
      this.trigger(
        outcome.model,
        `concept drift: a change detector flagged version ${outcome.served}'s live error`,
        "monitor",
        triggers.postChangeLabels ?? 0,
      );
      return;
    }
    const holdoutMae = Number(this.deps.serving.loadedModel(outcome.model, outcome.served)?.tags.holdout_mae);
    if (
      triggers.performanceRatio !== undefined &&
      Number.isFinite(holdoutMae) &&
      live.recentCount >= (triggers.minRecent ?? 200) &&
      live.recentMae > triggers.performanceRatio * holdoutMae
    ) {
      this.trigger(
        outcome.model,
        `performance drop: recent MAE ${live.recentMae.toPrecision(4)} > ${triggers.performanceRatio} x holdout MAE ${holdoutMae.toPrecision(4)}`,
        "monitor",
        triggers.postChangeLabels ?? 0,
      );
      return;
    }
    if (triggers.newLabels !== undefined && managed.labelsSinceTraining >= triggers.newLabels) {
      this.trigger(
        outcome.model,
        `${managed.labelsSinceTraining} new labelled outcomes since the last training`,
        "monitor",
      );
    }
  }

  /** Why the challenger must go now whatever the comparison says, or undefined. */
  private challengerGuard(model: string, challenger: string, policy: RetrainPolicy): string | undefined {
    const stats = this.deps.serving.statsOf(model).get(challenger);
    if (!stats || stats.shadowRequests + stats.requests < 50) return undefined;
    const failureRate = stats.failures / (stats.requests + stats.shadowRequests);
    if (stats.failures > 0 && failureRate > policy.maxFailureRate)
      return `error rate ${failureRate.toPrecision(3)} > ${policy.maxFailureRate}`;
    const p99 = p99LatencyMs(stats);
    if (p99 > policy.maxP99Ms) return `p99 scoring latency ${p99.toFixed(2)} ms > ${policy.maxP99Ms} ms`;
    return undefined;
  }

  private async retrain(model: string, managed: ManagedModel, reason: string, by: string): Promise<void> {
    const registry = this.deps.registry;
    const champion = await this.championOf(model);
    const set = await this.deps.source.latest(model);
    const trained = await trainTrackAndRegister(this.deps.tracking, registry, {
      model,
      experiment: managed.policy.experiment,
      set,
      learner: managed.policy.learner,
      by,
      reason,
      fit: this.deps.fit ?? fitOnWorker,
    });
    managed.labelsSinceTraining = 0;
    managed.lastTrainingAt = this.deps.now();
    const version = trained.version.version;
    this.emit({
      type: "registered",
      model,
      version,
      by,
      reason: `trained on ${set.lineage.table}@${set.lineage.tableVersion ?? "none"}`,
      details: {
        runId: trained.runId,
        holdoutRmse: trained.holdout.rmse,
        holdoutMae: trained.holdout.mae,
        rows: set.rows.length,
      },
    });
    if (champion === undefined) {
      // nothing to compare against: the first version is the champion
      await registry.setAlias(model, CHAMPION, version, {
        by,
        reason: "first version of the model",
        expected: null,
      });
      await this.deploy(model, { kind: "single", version }, by, "first version of the model");
      this.emit({ type: "promoted", model, version, by, reason: "first version of the model" });
      managed.stage = { stage: "idle" };
      return;
    }
    await registry.setAlias(model, CHALLENGER, version, { by, reason });
    await this.deploy(
      model,
      { kind: "shadow", champion, shadow: version },
      by,
      `challenger ${version} in shadow`,
    );
    managed.stage = {
      stage: "shadow",
      champion,
      challenger: version,
      comparison: new PairedComparison(managed.policy.comparison),
    };
    this.emit({
      type: "shadow-started",
      model,
      version,
      previous: champion,
      by,
      reason: `challenger ${version} scores the champion's inputs`,
    });
  }

  private settle(
    model: string,
    managed: ManagedModel,
    stage: LoopStage & { stage: "shadow" },
    outcome:
      | { verdict: "not-worse" | "worse" | "inconclusive"; detail: ComparisonVerdict }
      | { verdict: "worse-guard"; reason: string },
  ): void {
    // leave the shadow stage now: outcomes that arrive while the steps run do not settle twice
    managed.stage = { stage: "training", reason: "settling" };
    const { champion, challenger } = stage;
    const reason =
      outcome.verdict === "worse-guard"
        ? outcome.reason
        : `${outcome.verdict} on ${outcome.detail.outcomes} live outcomes` +
          ("championMae" in outcome.detail
            ? ` (MAE ${outcome.detail.challengerMae.toPrecision(4)} vs champion ${outcome.detail.championMae.toPrecision(4)})`
            : "");
    const registry = this.deps.registry;
    if (outcome.verdict === "not-worse") {
      this.chain(model, managed, async () => {
        await registry.setAlias(model, CHAMPION, challenger, { by: BY, reason, expected: champion });
        await registry.deleteAlias(model, CHALLENGER, { by: BY, reason: "promoted to champion" });
        // probation: the old champion shadows the new one, so a rollback is judged on the same inputs
        await this.deploy(model, { kind: "shadow", champion: challenger, shadow: champion }, BY, reason);
        this.emit({ type: "promoted", model, version: challenger, previous: champion, by: BY, reason });
        managed.stage = {
          stage: "probation",
          champion: challenger,
          previous: champion,
          comparison: this.probationComparison(managed.policy),
        };
      });
      return;
    }
    this.chain(model, managed, async () => {
      await registry.deleteAlias(model, CHALLENGER, { by: BY, reason: `rolled back: ${reason}` });
      await registry.setVersionTag(model, challenger, "platform.rejected", reason.slice(0, 500));
      await this.deploy(
        model,
        { kind: "single", version: champion },
        BY,
        `challenger ${challenger} rolled back`,
      );
      this.emit({ type: "rolled-back", model, version: champion, previous: challenger, by: BY, reason });
      managed.quietOutcomes = 2 * managed.policy.comparison.minOutcomes;
      managed.stage = { stage: "idle" };
    });
  }

  private endProbation(
    model: string,
    managed: ManagedModel,
    stage: LoopStage & { stage: "probation" },
    verdict: ComparisonVerdict,
  ): void {
    managed.stage = { stage: "training", reason: "ending probation" };
    const registry = this.deps.registry;
    if (verdict.verdict !== "worse") {
      const reason = `probation passed on ${verdict.outcomes} live outcomes`;
      this.chain(model, managed, async () => {
        await this.deploy(model, { kind: "single", version: stage.champion }, BY, reason);
        managed.stage = { stage: "idle" };
      });
      return;
    }
    const reason = `probation: live MAE ${verdict.challengerMae.toPrecision(4)} worse than the previous champion's ${verdict.championMae.toPrecision(4)} on the same ${verdict.outcomes} inputs`;
    this.chain(model, managed, async () => {
      await registry.setAlias(model, CHAMPION, stage.previous, { by: BY, reason, expected: stage.champion });
      await registry.setVersionTag(model, stage.champion, "platform.rejected", reason.slice(0, 500));
      await this.deploy(model, { kind: "single", version: stage.previous }, BY, reason);
      this.emit({
        type: "rolled-back",
        model,
        version: stage.previous,
        previous: stage.champion,
        by: BY,
        reason,
      });
      managed.quietOutcomes = 2 * managed.policy.comparison.minOutcomes;
      managed.stage = { stage: "idle" };
    });
  }

  /** the previous champion as the reference, the new one as the one that may be worse */
  private probationComparison(policy: RetrainPolicy): PairedComparison {
    const { rollbackRatio, probationOutcomes, comparison } = policy;
    return new PairedComparison({
      margin: rollbackRatio - 1,
      minOutcomes: Math.min(probationOutcomes, comparison.minOutcomes),
      maxOutcomes: probationOutcomes,
      ...(comparison.score ? { score: comparison.score } : {}),
    });
  }

  private championOf(model: string): Promise<string | undefined> {
    return this.aliasOf(model, CHAMPION);
  }

  private async aliasOf(model: string, alias: string): Promise<string | undefined> {
    try {
      return (await this.deps.registry.versionByAlias(model, alias))?.version;
    } catch (error) {
      // a model never trained is not in the registry yet: it has no versions
      if (isPlatformError(error, ErrorCodes.MODEL_NOT_FOUND)) return undefined;
      throw error;
    }
  }

  /** who moved the champion alias last */
  private async lastPromotedBy(model: string): Promise<string | undefined> {
    const transitions = await this.deps.registry.transitions(model);
    return transitions.filter((t) => t.alias === CHAMPION).at(-1)?.by;
  }

  private async deploy(model: string, policy: RoutingPolicy, by: string, reason: string): Promise<void> {
    await this.deps.serving.deploy(model, policy, { by, reason });
    await this.deps.registry.setModelTag(model, POLICY_TAG, JSON.stringify(policy));
  }

  private chain(model: string, managed: ManagedModel, step: () => Promise<void>): void {
    managed.work = managed.work.then(step).catch((error: unknown) => {
      managed.stage = { stage: "idle" };
      this.emit({
        type: "retrain-failed",
        model,
        by: BY,
        reason: isPlatformError(error) ? error.message : "the retraining step failed",
        ...(isPlatformError(error) ? { details: { code: error.code } } : {}),
      });
    });
  }

  private emit(event: Omit<ModelEvent, "at">): void {
    this.deps.onEvent({ ...event, at: this.deps.now() });
  }
}

/** The model tag that keeps a model's serving policy, so a restarted node serves what it served. */
export const POLICY_TAG = "platform.routing-policy";
