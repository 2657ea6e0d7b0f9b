import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { type LoadedModel, loadModelVersion } from "../../ml/lifecycle/model-artifacts.ts";
import {
  CLOCK_FEATURES,
  DEFAULT_DRIFT_THRESHOLDS,
  type DriftMeasure,
  measureDrift,
  measureDriftAgainstStatistics,
} from "../../ml/monitoring/feature-drift.ts";
import { LivePerformance, type LivePerformanceSnapshot } from "../../ml/monitoring/live-performance.ts";
import type { ModelRegistry } from "../../ml/registry/model-registry.ts";
import {
  parseRoutingPolicy,
  type RoutingPolicy,
  type RoutingPolicyInput,
  route,
  versionsOf,
} from "../../ml/serving/routing-policy.ts";
import { type ArmStatistics, decide, emptyArm, observe } from "../../ml/serving/sequential-test.ts";
import type { TrackingStore } from "../../ml/tracking/tracking-store.ts";
import type { ActorSystem } from "../../supervisor/actor-system.ts";
import type { ModelEvent } from "./model-events.ts";
import { type PredictRows, parsePredictRequest } from "./predict-request.ts";
import { PredictionMemory } from "./prediction-memory.ts";
import {
  VERSION_SHARD_KIND,
  type VersionShardMessage,
  versionShardKey,
  versionShardProps,
} from "./version-shard.ts";

/**
 * Online serving of registered models on one node: per model a routing policy and the version
 * shards it needs. A request is checked, routed row by row (policy and key), each version's rows
 * go to that version's shard as one batch, and shadows score the same rows after the answer is
 * on its way (their values are remembered and compared, never served). Labels join the
 * remembered predictions by (model, key, time) and feed each version's live error, the A/B
 * arms' sequential test, and the listeners (the retraining loop).
 *
 * Hot swap: `deploy` loads every version the new policy needs and starts their shards before it
 * replaces the policy; shards of versions the new policy no longer uses are retired behind the
 * requests already queued to them.
 */
export interface ServingDeps {
  readonly system: ActorSystem;
  readonly registry: ModelRegistry;
  readonly tracking: TrackingStore;
  readonly now: () => number;
  readonly hrtimeMs: () => number;
  readonly onEvent: (event: ModelEvent) => void;
  readonly memoryCapacity?: number;
}

export interface Outcome {
  readonly model: string;
  readonly key: string;
  readonly at: number;
  readonly actual: number;
  readonly served: string;
  readonly arm: string;
  /** version -> its prediction (the served one and every shadow) */
  readonly values: ReadonlyMap<string, number>;
}

export interface VersionStats {
  requests: number;
  rows: number;
  failures: number;
  shadowRows: number;
  shadowRequests: number;
  latencyMs: number[];
  readonly live: LivePerformance;
}

/** the p99 of a version's last scoring times (the shard's batches), 0 before any */
export function p99LatencyMs(stats: Pick<VersionStats, "latencyMs">): number {
  const sorted = [...stats.latencyMs].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]!;
}

interface ServedModel {
  policy: RoutingPolicy;
  /** the last inputs and served values of the node's own forecasts (data and prediction drift) */
  readonly recent: RecentInputs;
  readonly versions: Map<string, LoadedModel>;
  readonly stats: Map<string, VersionStats>;
  arms: Map<string, ArmStatistics> | undefined;
  featureNames: readonly string[];
}

export interface PredictAnswer {
  readonly model: string;
  readonly predictions: { readonly value: number; readonly version: string }[];
}

const LATENCY_SAMPLES = 2048;

export class ModelServing {
  private readonly models = new Map<string, ServedModel>();
  private readonly loaded = new Map<string, LoadedModel>();
  private readonly memory: PredictionMemory;
  private readonly pendingShadows = new Set<Promise<void>>();
  private readonly listeners: ((outcome: Outcome) => void)[] = [];
  private counter = 0;

  constructor(private readonly deps: ServingDeps) {
    this.memory = new PredictionMemory(deps.memoryCapacity ?? 200_000);
    deps.system.register(versionShardProps((key) => this.loaded.get(key)?.ensemble, deps.hrtimeMs));
  }

  modelNames(): string[] {
    return [...this.models.keys()].sort();
  }

  policyOf(model: string): RoutingPolicy | undefined {
    return this.models.get(model)?.policy;
  }

  featureNamesOf(model: string): readonly string[] {
    return this.served(model).featureNames;
  }

  loadedModel(model: string, version: string): LoadedModel | undefined {
    return this.loaded.get(versionShardKey(model, version));
  }

  onOutcome(listener: (outcome: Outcome) => void): void {
    this.listeners.push(listener);
  }

  /** Loads what `policy` needs, then switches to it: no request ever routes to a version not loaded. */
  async deploy(
    model: string,
    input: RoutingPolicyInput,
    cause: { by: string; reason: string },
  ): Promise<void> {
    // checked (and its defaults filled) here too: a policy reaches this from the API and the loop alike
    const policy = parseRoutingPolicy(input);
    const needed = versionsOf(policy);
    const fresh: LoadedModel[] = [];
    for (const version of needed) {
      const key = versionShardKey(model, version);
      if (!this.loaded.has(key))
        fresh.push(await loadModelVersion(this.deps.tracking, this.deps.registry, model, version));
    }
    const current = this.models.get(model);
    const featureNames = current?.featureNames ?? fresh[0]?.featureNames ?? [];
    for (const candidate of fresh) {
      if (candidate.featureNames.join("\u0000") !== featureNames.join("\u0000")) {
        throw new PlatformError(
          ErrorCodes.ROUTING_POLICY_INVALID,
          `version ${candidate.version} of ${model} takes other features than the version it would serve beside`,
        );
      }
    }
    for (const candidate of fresh) this.loaded.set(versionShardKey(model, candidate.version), candidate);
    const previous = current?.policy;
    const served: ServedModel = current ?? {
      policy,
      versions: new Map(),
      stats: new Map(),
      arms: undefined,
      featureNames,
      recent: new RecentInputs(featureNames.length, RECENT_INPUTS),
    };
    for (const version of needed) {
      const loaded = this.loaded.get(versionShardKey(model, version))!;
      served.versions.set(version, loaded);
      // the detectors work in the error's units: the version's own holdout MAE sets the scale
      const scale = Number(loaded.tags.holdout_mae);
      if (!served.stats.has(version))
        served.stats.set(version, newStats(Number.isFinite(scale) && scale > 0 ? scale : 1));
    }
    served.policy = policy;
    served.arms =
      policy.kind === "ab" ? new Map(policy.arms.map((arm) => [arm.version, emptyArm()])) : undefined;
    this.models.set(model, served);
    this.retireUnused(model, served, previous);
    this.deps.onEvent({
      type: previous ? "policy-changed" : "deployed",
      model,
      version: needed[0]!,
      by: cause.by,
      reason: cause.reason,
      at: this.deps.now(),
      details: { policy },
    });
  }

  /**
   * `remember: false` (the API's callers): the predictions are served but not kept for labels, so
   * only the node's own forecasts drive the live error that promotes and rolls back.
   */
  async predict(
    model: string,
    body: unknown,
    options: { readonly remember?: boolean } = {},
  ): Promise<PredictAnswer> {
    return this.predictRows(model, parsePredictRequest(body, this.served(model).featureNames), options);
  }

  /**
   * Rows the node built itself (its own forecasts): already a matrix in the model's feature
   * order, NaN where a feature is missing. The API's rows come through `predict`, checked first.
   */
  async predictRows(
    model: string,
    request: PredictRows,
    options: { readonly remember?: boolean } = {},
  ): Promise<PredictAnswer> {
    const served = this.served(model);
    const width = served.featureNames.length;
    const policy = served.policy;
    const byVersion = new Map<string, number[]>();
    const routes = request.keys.map((key) => route(model, policy, key ?? `request-${this.counter++}`));
    routes.forEach((r, i) => {
      const list = byVersion.get(r.serve);
      if (list) list.push(i);
      else byVersion.set(r.serve, [i]);
    });
    const values = new Float64Array(request.rows);
    const versions: string[] = new Array(request.rows);
    await Promise.all(
      [...byVersion].map(async ([version, indices]) => {
        const matrix = gather(request.matrix, indices, width);
        const stats = served.stats.get(version)!;
        stats.requests++;
        stats.rows += indices.length;
        try {
          const scored = await this.score(model, version, matrix, indices.length, stats);
          indices.forEach((row, i) => {
            values[row] = scored[i]!;
            versions[row] = version;
          });
        } catch (error) {
          stats.failures++;
          throw error;
        }
      }),
    );
    const remember = options.remember ?? true;
    if (remember) {
      this.remember(model, request.keys, request.times, routes, versions, values);
      served.recent.add(request.matrix, values);
    }
    const shadows = new Set(routes.flatMap((r) => r.shadow));
    const times = remember ? request.times : request.times.map(() => undefined);
    for (const shadow of shadows)
      this.shadowScore(model, shadow, request.matrix, request.rows, request.keys, times);
    return { model, predictions: Array.from(values, (value, i) => ({ value, version: versions[i]! })) };
  }

  /** A label for (model, key, time): joined once to what was predicted then; false if nothing was. */
  label(model: string, key: string, at: number, actual: number): boolean {
    const served = this.models.get(model);
    const remembered = this.memory.take(PredictionMemory.key(model, key, at));
    if (!served || !remembered || !Number.isFinite(actual)) return false;
    const now = this.deps.now();
    for (const [version, value] of remembered.values) {
      const stats = served.stats.get(version);
      if (!stats) continue;
      if (stats.live.observe(value, actual, now)) {
        this.deps.onEvent({
          type: "error-drift",
          model,
          version,
          by: "monitor",
          reason: "a change detector flagged the live error stream",
          at: now,
          details: { ...stats.live.snapshot() },
        });
      }
    }
    this.observeArm(model, served, remembered.arm, remembered.values.get(remembered.served)!, actual);
    const outcome: Outcome = {
      model,
      key,
      at,
      actual,
      served: remembered.served,
      arm: remembered.arm,
      values: remembered.values,
    };
    for (const listener of this.listeners) listener(outcome);
    return true;
  }

  /**
   * Data drift of each feature and prediction drift of the version that serves most (the
   * champion): its recent inputs and outputs against its training reference. Empty until
   * enough inputs were scored.
   */
  driftOf(
    model: string,
  ): { version: string; features: DriftMeasure[]; prediction: DriftMeasure | undefined } | undefined {
    const served = this.models.get(model);
    if (!served) return undefined;
    const version = versionsOf(served.policy)[0]!;
    const loaded = served.versions.get(version);
    if (!loaded) return undefined;
    const features = served.featureNames.flatMap((name, j) => {
      if (CLOCK_FEATURES.has(name)) return [];
      const measure = featureDrift(loaded, name, served.recent.column(j));
      return measure ? [measure] : [];
    });
    const prediction = measureDrift("prediction", referencePredictions(loaded), served.recent.values());
    return { version, features, prediction };
  }

  /** the loaded version that serves most of the model's keys now (the champion), if served here */
  servingVersion(model: string): LoadedModel | undefined {
    const served = this.models.get(model);
    return served ? served.versions.get(versionsOf(served.policy)[0]!) : undefined;
  }

  liveOf(model: string, version: string): LivePerformanceSnapshot | undefined {
    return this.models.get(model)?.stats.get(version)?.live.snapshot();
  }

  statsOf(model: string): ReadonlyMap<string, VersionStats> {
    return this.served(model).stats;
  }

  armsOf(model: string): ReadonlyMap<string, ArmStatistics> | undefined {
    return this.models.get(model)?.arms;
  }

  /** Waits for the shadow scorings in flight (tests, stop). */
  async settled(): Promise<void> {
    while (this.pendingShadows.size > 0) await Promise.all([...this.pendingShadows]);
  }

  private served(model: string): ServedModel {
    const served = this.models.get(model);
    if (!served)
      throw new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `model ${model} is not served on this node`);
    return served;
  }

  private score(
    model: string,
    version: string,
    matrix: Float64Array,
    rows: number,
    stats: VersionStats,
  ): Promise<Float64Array> {
    return new Promise<Float64Array>((resolve, reject) => {
      const message: VersionShardMessage = {
        type: "score",
        matrix,
        rows,
        reply: (values, millis) => {
          if (stats.latencyMs.length >= LATENCY_SAMPLES) stats.latencyMs.shift();
          stats.latencyMs.push(millis);
          resolve(values);
        },
        fail: reject,
      };
      this.deps.system
        .ref<VersionShardMessage>(VERSION_SHARD_KIND, versionShardKey(model, version))
        .offer(message)
        .catch(reject);
    });
  }

  private shadowScore(
    model: string,
    version: string,
    matrix: Float64Array,
    rows: number,
    keys: readonly (string | undefined)[],
    times: readonly (number | undefined)[],
  ): void {
    const served = this.served(model);
    const stats = served.stats.get(version)!;
    const pending: Promise<void> = this.score(model, version, matrix, rows, stats).then(
      (values) => {
        stats.shadowRows += rows;
        stats.shadowRequests++;
        keys.forEach((key, i) => {
          const at = times[i];
          if (key === undefined || at === undefined) return;
          this.memory.get(PredictionMemory.key(model, key, at))?.values.set(version, values[i]!);
        });
      },
      () => {
        // a failing shadow is counted, never served and never fails the request it shadows
        stats.failures++;
        stats.shadowRequests++;
      },
    );
    this.pendingShadows.add(pending);
    void pending.finally(() => this.pendingShadows.delete(pending));
  }

  private remember(
    model: string,
    keys: readonly (string | undefined)[],
    times: readonly (number | undefined)[],
    routes: readonly { serve: string; arm: string }[],
    versions: readonly string[],
    values: Float64Array,
  ): void {
    keys.forEach((key, i) => {
      const at = times[i];
      if (key === undefined || at === undefined) return;
      this.memory.remember(PredictionMemory.key(model, key, at), {
        served: versions[i]!,
        arm: routes[i]!.arm,
        values: new Map([[versions[i]!, values[i]!]]),
      });
    });
  }

  private observeArm(
    model: string,
    served: ServedModel,
    arm: string,
    predicted: number,
    actual: number,
  ): void {
    const policy = served.policy;
    if (policy.kind !== "ab" || !served.arms) return;
    const stats = served.arms.get(arm);
    if (!stats) return;
    observe(stats, Math.abs(predicted - actual));
    const decision = decide(
      policy.arms.map((a) => served.arms!.get(a.version)!),
      policy,
    );
    if (!decision.decided) return;
    const winner =
      decision.winner === undefined ? policy.arms[0]!.version : policy.arms[decision.winner]!.version;
    served.arms = undefined;
    this.deps.onEvent({
      type: "ab-decided",
      model,
      version: winner,
      by: "ab-test",
      reason: decision.reason,
      at: this.deps.now(),
      details: { likelihoodRatio: decision.likelihoodRatio },
    });
    // the experiment stops: the winner serves everything
    void this.deploy(
      model,
      { kind: "single", version: winner },
      { by: "ab-test", reason: decision.reason },
    ).catch((error: unknown) =>
      this.deps.onEvent({
        type: "retrain-failed",
        model,
        version: winner,
        by: "ab-test",
        reason: `the A/B winner could not be deployed: ${(error as Error).message}`,
        at: this.deps.now(),
      }),
    );
  }

  private retireUnused(model: string, served: ServedModel, previous: RoutingPolicy | undefined): void {
    if (!previous) return;
    const keep = new Set(versionsOf(served.policy));
    for (const version of versionsOf(previous)) {
      if (keep.has(version)) continue;
      served.versions.delete(version);
      const key = versionShardKey(model, version);
      // behind every request already queued: they are answered, then the shard stops and the trees go
      this.deps.system.tell<VersionShardMessage>(VERSION_SHARD_KIND, key, {
        type: "retire",
        done: () => {
          if (!this.models.get(model)?.versions.has(version)) this.loaded.delete(key);
        },
      });
    }
  }
}

const RECENT_INPUTS = 2000;

/**
 * A feature's drift against the version's reference: the statistics of the feature view version
 * it was trained on when the run kept them (issue 9), else the run's training sample. The answer
 * names which one it used.
 */
export function featureDrift(
  loaded: LoadedModel,
  name: string,
  recent: ArrayLike<number>,
  minSample = DEFAULT_DRIFT_THRESHOLDS.minSample,
): (DriftMeasure & { readonly reference: string }) | undefined {
  const thresholds = { ...DEFAULT_DRIFT_THRESHOLDS, minSample };
  const statistics = loaded.statistics[name];
  if (statistics) {
    const measure = measureDriftAgainstStatistics(name, statistics, recent, thresholds);
    if (measure)
      return { ...measure, reference: `${statistics.view}@${statistics.version}.${statistics.feature}` };
  }
  const measure = measureDrift(name, loaded.reference[name] ?? [], recent, thresholds);
  return measure ? { ...measure, reference: "training-sample" } : undefined;
}

const referenceOutputs = new WeakMap<LoadedModel, Float64Array>();

/** The version's outputs on its own training reference, computed once per loaded version. */
function referencePredictions(loaded: LoadedModel): Float64Array {
  let outputs = referenceOutputs.get(loaded);
  if (!outputs) {
    const columns = loaded.featureNames.map((name) => loaded.reference[name] ?? []);
    const rows = Math.min(...columns.map((c) => c.length));
    const matrix = new Float64Array(rows * columns.length);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < columns.length; j++) matrix[i * columns.length + j] = columns[j]![i]!;
    outputs = rows > 0 ? loaded.ensemble.predictBatch(matrix) : new Float64Array(0);
    referenceOutputs.set(loaded, outputs);
  }
  return outputs;
}

/** A ring of the last `capacity` scored rows and their served values. */
class RecentInputs {
  private readonly rows: Float64Array;
  private readonly served: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    private readonly width: number,
    private readonly capacity: number,
  ) {
    this.rows = new Float64Array(width * capacity);
    this.served = new Float64Array(capacity);
  }

  add(matrix: Float64Array, values: Float64Array): void {
    for (let i = 0; i < values.length; i++) {
      this.rows.set(matrix.subarray(i * this.width, (i + 1) * this.width), this.next * this.width);
      this.served[this.next] = values[i]!;
      this.next = (this.next + 1) % this.capacity;
      this.size = Math.min(this.size + 1, this.capacity);
    }
  }

  column(j: number): Float64Array {
    return Float64Array.from({ length: this.size }, (_, i) => this.rows[i * this.width + j]!);
  }

  values(): Float64Array {
    return this.served.slice(0, this.size);
  }
}

function newStats(errorScale: number): VersionStats {
  return {
    requests: 0,
    rows: 0,
    failures: 0,
    shadowRows: 0,
    shadowRequests: 0,
    latencyMs: [],
    live: new LivePerformance({ errorScale }),
  };
}

function gather(matrix: Float64Array, indices: readonly number[], width: number): Float64Array {
  if (indices.length * width === matrix.length) return matrix;
  const out = new Float64Array(indices.length * width);
  indices.forEach((row, i) => {
    out.set(matrix.subarray(row * width, (row + 1) * width), i * width);
  });
  return out;
}
