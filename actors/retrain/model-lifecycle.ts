import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { CHAMPION, type ModelRegistry } from "../../ml/registry/model-registry.ts";
import { nextCanaryStep, parseRoutingPolicy, type RoutingPolicy } from "../../ml/serving/routing-policy.ts";
import type { ModelEvent } from "../model-shard/model-events.ts";
import { type ModelServing, p99LatencyMs } from "../model-shard/model-serving.ts";
import { POLICY_TAG, type RetrainCoordinator } from "./retrain-coordinator.ts";

export interface ModelLifecycleDeps {
  readonly serving: ModelServing;
  readonly registry: ModelRegistry;
  /** the retraining loop that manages a model (a room may run its own, the market model does) */
  readonly loopOf: (model: string) => RetrainCoordinator;
  /** the recent lifecycle events, oldest first (a model's last ones are part of its description) */
  readonly events: () => readonly ModelEvent[];
  readonly onEvent: (event: ModelEvent) => void;
  readonly now: () => number;
}

/**
 * What an operator does to a model (the models API): describe it, score through it, set its
 * routing policy, step a canary, promote, roll back, retrain. Every policy change is deployed to
 * the serving layer first and then kept as the model's tag, so a restarted node serves it again
 * (`restore-serving.ts`); every alias change is a registry transition with who and why.
 */
export class ModelLifecycle {
  constructor(private readonly deps: ModelLifecycleDeps) {}

  list(): Promise<unknown[]> {
    return Promise.all(this.deps.serving.modelNames().map((name) => this.describeModel(name, false)));
  }

  describe(name: string): Promise<unknown> {
    return this.describeModel(name, true);
  }

  predict(name: string, body: unknown): Promise<unknown> {
    return this.deps.serving.predict(name, body, { remember: false });
  }

  async setPolicy(name: string, input: unknown, by: string) {
    const next = parseRoutingPolicy(input);
    await this.deploy(name, next, by, "policy set through the API");
    return { model: name, policy: this.deps.serving.policyOf(name) };
  }

  async stepCanary(name: string, by: string) {
    const current = this.deps.serving.policyOf(name);
    if (current?.kind !== "canary")
      throw new PlatformError(ErrorCodes.ROUTING_POLICY_INVALID, `${name} is not in a canary`);
    const next = nextCanaryStep(current);
    if (!next)
      throw new PlatformError(
        ErrorCodes.ROUTING_POLICY_INVALID,
        "the canary is at its last step; promote it",
      );
    await this.deploy(name, next, by, "canary stepped up");
    this.emit({
      type: "canary-stepped",
      model: name,
      by,
      reason: `share ${(next as { share: number }).share}`,
    });
    return { model: name, policy: next };
  }

  async promote(name: string, version: string, by: string, reason: string) {
    const { registry } = this.deps;
    const previous = (await registry.versionByAlias(name, CHAMPION))?.version;
    await registry.setAlias(name, CHAMPION, version, { by, reason, expected: previous ?? null });
    await this.deploy(name, { kind: "single", version }, by, reason);
    this.emit({ type: "promoted", model: name, version, ...(previous ? { previous } : {}), by, reason });
    return { model: name, champion: version, previous };
  }

  async rollback(name: string, by: string, reason: string) {
    const { registry } = this.deps;
    const history = await registry.transitions(name);
    const current = (await registry.versionByAlias(name, CHAMPION))?.version;
    const before = [...history].reverse().find((t) => t.alias === CHAMPION && t.to === current)?.from;
    if (!current || !before)
      throw new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `${name} has no earlier champion to roll back to`);
    await registry.setAlias(name, CHAMPION, before, { by, reason, expected: current });
    await this.deploy(name, { kind: "single", version: before }, by, reason);
    this.emit({ type: "rolled-back", model: name, version: before, previous: current, by, reason });
    return { model: name, champion: before, previous: current };
  }

  retrain(name: string, by: string, reason: string): { started: boolean } {
    const loop = this.deps.loopOf(name);
    if (loop.stageOf(name) === undefined)
      throw new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `${name} has no retraining loop`);
    return { started: loop.trigger(name, reason, by) };
  }

  private async deploy(name: string, policy: RoutingPolicy, by: string, reason: string): Promise<void> {
    await this.deps.serving.deploy(name, policy, { by, reason });
    await this.deps.registry.setModelTag(name, POLICY_TAG, JSON.stringify(policy));
  }

  private emit(event: Omit<ModelEvent, "at">): void {
    this.deps.onEvent({ ...event, at: this.deps.now() });
  }

  private async describeModel(name: string, full: boolean) {
    const { serving, registry } = this.deps;
    const model = await registry.getModel(name);
    const stats = serving.policyOf(name) ? serving.statsOf(name) : new Map();
    const versions = [...stats].map(([version, s]) => ({
      version,
      requests: s.requests,
      rows: s.rows,
      shadowRows: s.shadowRows,
      failures: s.failures,
      latencyP99Ms: p99LatencyMs(s),
      live: s.live.snapshot(),
    }));
    const arms = serving.armsOf(name);
    return {
      name,
      aliases: model.aliases,
      policy: serving.policyOf(name) ?? null,
      stage: this.deps.loopOf(name).stageOf(name) ?? null,
      versions,
      drift: serving.driftOf(name) ?? null,
      // an A/B test in progress: each arm's labelled outcomes and mean absolute error
      abArms: arms
        ? Object.fromEntries([...arms].map(([v, a]) => [v, { outcomes: a.count, mae: a.mean }]))
        : null,
      ...(full
        ? {
            registered: await registry.listVersions(name),
            transitions: await registry.transitions(name),
            events: this.deps
              .events()
              .filter((e) => e.model === name)
              .slice(-100),
          }
        : {}),
    };
  }
}
