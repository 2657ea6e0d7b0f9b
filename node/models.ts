import { join } from "node:path";
import { Gauge } from "prom-client";
import type { ModelEvent } from "../actors/model-shard/model-events.ts";
import { ModelServing } from "../actors/model-shard/model-serving.ts";
import { TrafficForecaster, trafficWindowRow } from "../actors/model-shard/traffic-forecaster.ts";
import {
  UtilityForecaster,
  type UtilityWindowRow,
  utilityWindowRow,
} from "../actors/model-shard/utility-forecaster.ts";
import { firstTraining } from "../actors/retrain/first-training.ts";
import { POLICY_TAG, RetrainCoordinator } from "../actors/retrain/retrain-coordinator.ts";
import { DEFAULT_RETRAIN_POLICY, type RetrainPolicy } from "../actors/retrain/retrain-policy.ts";
import type { AuditLog } from "../api/gateway/audit-log.ts";
import type { HealthCheck } from "../api/health.ts";
import { type ModelControl, modelRoutes } from "../api/models/routes.ts";
import type { FeatureStore } from "../features/feature-store.ts";
import type { MetricSample } from "../messages/alert.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import type { Prediction } from "../messages/prediction.ts";
import { Topics } from "../messages/topics.ts";
import { WindowResult } from "../messages/window-result.ts";
import { FeatureStoreTrainingSource } from "../ml/lifecycle/feature-store-training-source.ts";
import {
  DISTRICT_ENVIRONMENT_VIEW,
  DISTRICT_TRAFFIC_VIEW,
  type DistrictHour,
  type TrafficWindowRow,
} from "../ml/lifecycle/traffic-forecast-features.ts";
import { countTrafficWindows, trafficTrainingSet } from "../ml/lifecycle/traffic-training-set.ts";
import { countUtilityHours, utilityTrainingSet } from "../ml/lifecycle/utility-training-set.ts";
import { EmbeddedModelRegistry } from "../ml/registry/embedded/embedded-model-registry.ts";
import { MlflowModelRegistry } from "../ml/registry/mlflow/mlflow-model-registry.ts";
import { CHAMPION, type ModelRegistry } from "../ml/registry/model-registry.ts";
import { nextCanaryStep, parseRoutingPolicy, type RoutingPolicy } from "../ml/serving/routing-policy.ts";
import { EmbeddedTrackingStore } from "../ml/tracking/embedded/embedded-tracking-store.ts";
import { MlflowTrackingStore } from "../ml/tracking/mlflow/mlflow-tracking-store.ts";
import type { TrackingStore } from "../ml/tracking/tracking-store.ts";
import { TableSink } from "../sinks/table-sink.ts";
import { createActorSystem } from "../supervisor/actor-system.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The model lifecycle on a node (MODELS=off turns it off): tracking and registry (MLflow when
 * MLFLOW_URL is set, else embedded in DATA_DIR/models), the serving layer on an actor system of
 * its own, the retraining loop on the feature store's point-in-time training sets (the lake's gold
 * tables), and a table sink over the final traffic windows that closes the loop on live data:
 * each closed window labels the forecast made for it and its sensor's next window is forecast by
 * the version the policy routes it to, published as a prediction. A node that restarts deploys
 * the policy kept with the model (or its champion alone): it serves what it served before. With
 * no champion at all (first start) the first version trains once the offline store holds enough
 * labelled rows (`actors/retrain/first-training.ts`).
 */
export const TRAFFIC_FORECAST = "traffic-forecast";
export const UTILITY_FORECAST = "utility-forecast";

/** a closed window the models room forecasts from */
type ClosedWindow =
  | { readonly kind: "traffic"; readonly row: TrafficWindowRow }
  | { readonly kind: "utility"; readonly row: UtilityWindowRow };

export interface NodeModels {
  readonly routes: ReturnType<typeof modelRoutes>;
  readonly serving: ModelServing;
  readonly coordinator: RetrainCoordinator;
  readonly events: readonly ModelEvent[];
  /** what another room needs to run a model of its own on this node's serving (the market model) */
  readonly registry: ModelRegistry;
  readonly tracking: TrackingStore;
  readonly onEvent: (event: ModelEvent) => void;
  /** a room's own retraining loop (its own training source), so the API's retrain and stage reach it */
  addLoop(model: string, loop: RetrainCoordinator): void;
  /** per model: "no champion yet" and why, until its first version serves */
  readonly health: readonly HealthCheck[];
  /** the version serving most of a model's keys on this node */
  championOf(model: string): string | undefined;
  stop(): Promise<void>;
}

const EVENTS_KEPT = 500;
/** how often a model without a champion looks at the offline store (a count over one table) */
const BOOTSTRAP_CHECK_MS = 2000;

export async function startModels(
  node: NodeContext,
  options: {
    readonly audit: AuditLog;
    readonly deadLetter: (letter: DeadLetter, topic: string) => void;
    /** a metric sample for the alert rules (live error per version) */
    readonly sample?: (sample: MetricSample) => void;
    /** where the node's forecasts go (the output router: ml.predictions, the drift monitor, /ws) */
    readonly publish: (prediction: Prediction) => void;
    /** resolves once what was published is in the log: the windows' offsets are committed after it */
    readonly flushPublished?: () => Promise<void>;
    /** the offline store the models train on and the online store serving reads (FEATURES=off: none) */
    readonly features?: FeatureStore | undefined;
    /** a sensor's district (the sensor registry) */
    readonly districtOf?: (sensorId: string) => string | undefined;
  },
): Promise<NodeModels | undefined> {
  const { config, log, codec, metrics, feeds, failures } = node;
  if (config.models === "off") return undefined;
  const dir = join(config.dataDir, "models");
  const tracking: TrackingStore = config.mlflowUrl
    ? new MlflowTrackingStore({
        url: config.mlflowUrl,
        ...(process.env.MLFLOW_TRACKING_TOKEN ? { token: process.env.MLFLOW_TRACKING_TOKEN } : {}),
      })
    : EmbeddedTrackingStore.open({ dir });
  const registry: ModelRegistry = config.mlflowUrl
    ? new MlflowModelRegistry({
        url: config.mlflowUrl,
        ...(process.env.MLFLOW_TRACKING_TOKEN ? { token: process.env.MLFLOW_TRACKING_TOKEN } : {}),
      })
    : EmbeddedModelRegistry.open({ dir });
  const system = createActorSystem({ name: "models" });
  const events: ModelEvent[] = [];
  const onEvent = (event: ModelEvent) => {
    events.push(event);
    if (events.length > EVENTS_KEPT) events.shift();
    feeds.publish("models", event);
    // every loop step in the audit trail, beside the API's writes
    options.audit
      .record({
        time: event.at,
        actor: event.by,
        role: null,
        via: "model-lifecycle",
        method: "EVENT",
        path: `/models/${event.model}/${event.type}${event.version ? `/${event.version}` : ""}`,
        address: null,
        status: 200,
        outcome: "done",
      })
      .catch(failures.logUnavailable);
  };
  const serving = new ModelServing({
    system,
    registry,
    tracking,
    now: Date.now,
    hrtimeMs: () => performance.now(),
    onEvent,
  });
  const store = options.features;
  const withDistrict = options.districtOf ? { districtOf: options.districtOf } : {};
  const source = new FeatureStoreTrainingSource(store, {
    [TRAFFIC_FORECAST]: (s) =>
      trafficTrainingSet(s, { ...withDistrict, maxRows: config.modelsHistoryWindows }),
    [UTILITY_FORECAST]: (s) =>
      utilityTrainingSet(s, { ...withDistrict, maxRows: config.modelsHistoryWindows }),
  });
  const coordinator = new RetrainCoordinator({
    serving,
    registry,
    tracking,
    source,
    now: Date.now,
    onEvent,
  });
  const policyOf = (experiment: string, nTrees: number): RetrainPolicy => ({
    ...DEFAULT_RETRAIN_POLICY,
    experiment,
    learner: {
      kind: "gradient-boosting",
      params: { nTrees, maxDepth: 6, maxBins: 64, learningRate: 0.1, subsample: 0.8 },
    },
    triggers: {
      ...DEFAULT_RETRAIN_POLICY.triggers,
      ...(config.modelsRetrainEveryMs > 0 ? { everyMs: config.modelsRetrainEveryMs } : {}),
    },
  });
  const policies = {
    [TRAFFIC_FORECAST]: policyOf(TRAFFIC_FORECAST, 120),
    // hours, not minutes: far fewer rows, so fewer trees
    [UTILITY_FORECAST]: policyOf(UTILITY_FORECAST, 80),
  };
  for (const [model, policy] of Object.entries(policies)) {
    coordinator.manage(model, policy);
    await restoreServing(serving, registry, model);
    await coordinator.resume(model);
  }
  const loops = new Map<string, RetrainCoordinator>();
  const loopOf = (name: string) => loops.get(name) ?? coordinator;

  const live = {
    serving,
    publish: options.publish,
    ...withDistrict,
    now: Date.now,
    hrtimeMs: () => performance.now(),
  };
  const traffic = new TrafficForecaster({
    ...live,
    model: TRAFFIC_FORECAST,
    ...(store ? { districtHours: (districts) => districtHours(store, districts) } : {}),
  });
  const utility = new UtilityForecaster({
    ...live,
    model: UTILITY_FORECAST,
    ...(store ? { districtHours: (districts) => districtUtilityHours(store, districts) } : {}),
  });
  let predictFailures = 0;
  const sink = new TableSink<ClosedWindow>({
    ...{
      // the traffic name is the consumer group's: kept, so a node that ran before resumes there
      name: "models-traffic",
      log,
      applicationId: config.applicationId,
      topics: [Topics.processed("traffic"), Topics.processed("utility")],
    },
    decode: codec.decode,
    toRows: (value) => {
      const window = WindowResult.parse(value);
      if (window.type === "traffic") {
        const row = trafficWindowRow(window);
        return row ? [{ kind: "traffic", row }] : [];
      }
      const row = window.type === "utility" ? utilityWindowRow(window) : undefined;
      return row ? [{ kind: "utility", row }] : [];
    },
    target: {
      write: async (batch) => {
        const forecasts: [string, () => Promise<void>][] = [
          [
            TRAFFIC_FORECAST,
            () => traffic.closed(batch.rows.flatMap((w) => (w.kind === "traffic" ? [w.row] : []))),
          ],
          [
            UTILITY_FORECAST,
            () => utility.closed(batch.rows.flatMap((w) => (w.kind === "utility" ? [w.row] : []))),
          ],
        ];
        for (const [, forecast] of forecasts) {
          try {
            await forecast();
          } catch (error) {
            // a forecast that failed (a swap, a failing shard, the online store down) is counted;
            // the labels went in before it, and the windows' offsets move on
            predictFailures++;
            failures.logUnavailable(error);
          }
        }
        // the forecasts are in the log before the windows that caused them are committed: a crash
        // in between forecasts them again (same prediction ids), never loses them
        await options.flushPublished?.();
      },
    },
    batchSize: 2000,
    lingerMs: 200,
    onDeadLetter: options.deadLetter,
    onError: failures.fail,
  }).start();

  // first start: no champion yet. A first training runs once the offline store holds enough
  // labelled rows; the feed and /health say what the node waits for meanwhile.
  const bootstraps = [
    { model: TRAFFIC_FORECAST, minRows: config.modelsFirstTrainingRows, count: countTrafficWindows },
    { model: UTILITY_FORECAST, minRows: config.modelsUtilityFirstTrainingRows, count: countUtilityHours },
  ].map(({ model, minRows, count }) =>
    firstTraining({
      ...{ model, store, minRows, count },
      served: () => serving.policyOf(model) !== undefined,
      idle: () => coordinator.stageOf(model) === "idle",
      trigger: (reason) => coordinator.trigger(model, reason, "node"),
      onEvent,
      onError: failures.logUnavailable,
    }),
  );
  const checkBootstraps = () => Promise.all(bootstraps.map((b) => b.check()));
  const bootstrapTimer = setInterval(() => void checkBootstraps(), BOOTSTRAP_CHECK_MS);
  await checkBootstraps();
  // the schedule, and data drift: features whose recent inputs left the training reference
  const driftedBefore = new Set<string>();
  const tick = setInterval(() => {
    coordinator.tick();
    for (const [model, policy] of Object.entries(policies)) {
      const drift = serving.driftOf(model);
      const drifted = drift?.features.filter((f) => f.drifted).map((f) => f.name) ?? [];
      if (drifted.length > 0 && !driftedBefore.has(model)) {
        coordinator.trigger(
          model,
          `data drift on ${drifted.join(", ")} (against version ${drift!.version}'s reference: its feature view statistics)`,
          "monitor",
          policy.triggers.postChangeLabels ?? 0,
        );
      }
      if (drifted.length > 0) driftedBefore.add(model);
      else driftedBefore.delete(model);
    }
    // live error for the alert rules (model-error-up): each served version's recent error
    // against its own usual error, once labels have come in
    for (const model of serving.modelNames())
      for (const [version, stats] of serving.statsOf(model)) {
        const ratio = stats.live.errorRatio();
        if (ratio !== undefined)
          options.sample?.({
            metric: "model_live_error_ratio",
            value: ratio,
            labels: { model, version },
            at: Date.now(),
          });
      }
  }, 10_000);
  observeModels(metrics.registry, serving, () => predictFailures);

  const control: ModelControl = {
    list: async () => Promise.all(serving.modelNames().map((name) => describe(name, false))),
    describe: (name) => describe(name, true),
    predict: (name, body) => serving.predict(name, body, { remember: false }),
    async setPolicy(name, input, by) {
      const next = parseRoutingPolicy(input);
      await serving.deploy(name, next, { by, reason: "policy set through the API" });
      await registry.setModelTag(name, POLICY_TAG, JSON.stringify(next));
      return { model: name, policy: serving.policyOf(name) };
    },
    async stepCanary(name, by) {
      const current = serving.policyOf(name);
      if (current?.kind !== "canary")
        throw new PlatformError(ErrorCodes.ROUTING_POLICY_INVALID, `${name} is not in a canary`);
      const next = nextCanaryStep(current);
      if (!next)
        throw new PlatformError(
          ErrorCodes.ROUTING_POLICY_INVALID,
          "the canary is at its last step; promote it",
        );
      await serving.deploy(name, next, { by, reason: "canary stepped up" });
      await registry.setModelTag(name, POLICY_TAG, JSON.stringify(next));
      onEvent({
        type: "canary-stepped",
        model: name,
        by,
        reason: `share ${(next as { share: number }).share}`,
        at: Date.now(),
      });
      return { model: name, policy: next };
    },
    async promote(name, version, by, reason) {
      const previous = (await registry.versionByAlias(name, CHAMPION))?.version;
      await registry.setAlias(name, CHAMPION, version, { by, reason, expected: previous ?? null });
      const next: RoutingPolicy = { kind: "single", version };
      await serving.deploy(name, next, { by, reason });
      await registry.setModelTag(name, POLICY_TAG, JSON.stringify(next));
      onEvent({
        type: "promoted",
        model: name,
        version,
        ...(previous ? { previous } : {}),
        by,
        reason,
        at: Date.now(),
      });
      return { model: name, champion: version, previous };
    },
    async rollback(name, by, reason) {
      const history = await registry.transitions(name);
      const current = (await registry.versionByAlias(name, CHAMPION))?.version;
      const before = [...history].reverse().find((t) => t.alias === CHAMPION && t.to === current)?.from;
      if (!current || !before)
        throw new PlatformError(
          ErrorCodes.MODEL_NOT_FOUND,
          `${name} has no earlier champion to roll back to`,
        );
      await registry.setAlias(name, CHAMPION, before, { by, reason, expected: current });
      const next: RoutingPolicy = { kind: "single", version: before };
      await serving.deploy(name, next, { by, reason });
      await registry.setModelTag(name, POLICY_TAG, JSON.stringify(next));
      onEvent({
        type: "rolled-back",
        model: name,
        version: before,
        previous: current,
        by,
        reason,
        at: Date.now(),
      });
      return { model: name, champion: before, previous: current };
    },
    retrain: (name, by, reason) => {
      if (loopOf(name).stageOf(name) === undefined)
        throw new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `${name} has no retraining loop`);
      return { started: loopOf(name).trigger(name, reason, by) };
    },
  };

  async function describe(name: string, full: boolean) {
    const model = await registry.getModel(name);
    const stats = serving.policyOf(name) ? serving.statsOf(name) : new Map();
    const versions = [...stats].map(([version, s]) => ({
      version,
      requests: s.requests,
      rows: s.rows,
      shadowRows: s.shadowRows,
      failures: s.failures,
      latencyP99Ms: percentile(s.latencyMs, 0.99),
      live: s.live.snapshot(),
    }));
    return {
      name,
      aliases: model.aliases,
      policy: serving.policyOf(name) ?? null,
      stage: loopOf(name).stageOf(name) ?? null,
      versions,
      drift: serving.driftOf(name) ?? null,
      // an A/B test in progress: each arm's labelled outcomes and mean absolute error
      abArms: serving.armsOf(name)
        ? Object.fromEntries(
            [...serving.armsOf(name)!].map(([v, a]) => [v, { outcomes: a.count, mae: a.mean }]),
          )
        : null,
      ...(full
        ? {
            registered: await registry.listVersions(name),
            transitions: await registry.transitions(name),
            events: events.filter((e) => e.model === name).slice(-100),
          }
        : {}),
    };
  }

  return {
    routes: modelRoutes(control, failures.logUnavailable),
    serving,
    coordinator,
    events,
    registry,
    tracking,
    onEvent,
    addLoop: (model, loop) => loops.set(model, loop),
    health: bootstraps.map((b) => b.health),
    championOf: (model) => serving.servingVersion(model)?.version,
    async stop() {
      clearInterval(tick);
      clearInterval(bootstrapTimer);
      await sink.stop();
      await coordinator.settled();
      await serving.settled();
      await system.stop();
      await tracking.close();
      await registry.close();
    },
  };
}

/** each district's last complete hour of traffic and environment readings, from the online store */
async function districtHours(
  store: FeatureStore,
  districts: readonly string[],
): Promise<ReadonlyMap<string, DistrictHour>> {
  const [traffic, environment] = await Promise.all(
    [DISTRICT_TRAFFIC_VIEW, DISTRICT_ENVIRONMENT_VIEW].map((view) =>
      store.readOnline({ view, entities: districts }).catch((error: unknown) => {
        // a view this node does not have (refused at registration) joins as missing, as offline
        if (isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) return undefined;
        throw error;
      }),
    ),
  );
  const value = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const out = new Map<string, DistrictHour>();
  for (const district of districts) {
    const t = traffic?.results.find((r) => r.entity === district)?.values;
    const e = environment?.results.find((r) => r.entity === district)?.values;
    out.set(district, {
      vehicleCount: value(t?.avg_vehicle_count),
      avgSpeed: value(t?.avg_avg_speed),
      airQuality: value(e?.avg_air_quality_index),
      temperature: value(e?.avg_temperature),
    });
  }
  return out;
}

/** each district's last complete hour of utility readings and its temperature, from the online store */
async function districtUtilityHours(
  store: FeatureStore,
  districts: readonly string[],
): Promise<ReadonlyMap<string, { consumption: number | null; temperature: number | null }>> {
  const [utility, environment] = await Promise.all(
    ["district_utility_hourly", DISTRICT_ENVIRONMENT_VIEW].map((view) =>
      store.readOnline({ view, entities: districts }).catch((error: unknown) => {
        if (isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) return undefined;
        throw error;
      }),
    ),
  );
  const value = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return new Map(
    districts.map((district) => [
      district,
      {
        consumption: value(utility?.results.find((r) => r.entity === district)?.values.avg_consumption),
        temperature: value(environment?.results.find((r) => r.entity === district)?.values.avg_temperature),
      },
    ]),
  );
}

/** What the node served before it stopped: the kept policy if its versions still exist, else the champion alone. */
export async function restoreServing(
  serving: ModelServing,
  registry: ModelRegistry,
  name: string,
): Promise<void> {
  let champion: string | undefined;
  let kept: string | undefined;
  try {
    const model = await registry.getModel(name);
    champion = model.aliases[CHAMPION];
    kept = model.tags[POLICY_TAG];
  } catch (error) {
    if (isPlatformError(error, ErrorCodes.MODEL_NOT_FOUND)) return;
    throw error;
  }
  if (kept !== undefined) {
    try {
      await serving.deploy(name, JSON.parse(kept), {
        by: "node",
        reason: "restart: the policy kept with the model",
      });
      return;
    } catch (error) {
      if (!isPlatformError(error) && !(error instanceof SyntaxError)) throw error;
      console.error(`the kept serving policy of ${name} could not be deployed; serving its champion alone`);
    }
  }
  if (champion !== undefined) {
    await serving.deploy(
      name,
      { kind: "single", version: champion },
      { by: "node", reason: "restart: the champion" },
    );
  }
}

function observeModels(
  registry: import("prom-client").Registry,
  serving: ModelServing,
  predictFailures: () => number,
) {
  const perVersion = (
    name: string,
    help: string,
    read: (s: ReturnType<ModelServing["statsOf"]> extends ReadonlyMap<string, infer V> ? V : never) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["model", "version"],
      registers: [registry],
      collect() {
        this.reset();
        for (const model of serving.modelNames()) {
          for (const [version, stats] of serving.statsOf(model)) this.set({ model, version }, read(stats));
        }
      },
    });
  perVersion(
    "platform_model_requests",
    "Predict requests answered per model version since the node started",
    (s) => s.requests,
  );
  perVersion(
    "platform_model_rows",
    "Rows scored per model version (served), since the node started",
    (s) => s.rows,
  );
  perVersion(
    "platform_model_shadow_rows",
    "Rows a shadow version scored without serving them",
    (s) => s.shadowRows,
  );
  perVersion("platform_model_failures", "Scorings that failed per model version", (s) => s.failures);
  perVersion(
    "platform_model_latency_p99_ms",
    "p99 scoring time of a batch in the version's shard (last 2048)",
    (s) => percentile(s.latencyMs, 0.99),
  );
  perVersion(
    "platform_model_live_outcomes",
    "Labelled outcomes joined to the version's predictions",
    (s) => s.live.snapshot().outcomes,
  );
  perVersion(
    "platform_model_live_mae",
    "The version's MAE over its recent labelled outcomes",
    (s) => s.live.snapshot().recentMae,
  );
  perVersion(
    "platform_model_live_rmse",
    "The version's RMSE over its recent labelled outcomes",
    (s) => s.live.snapshot().recentRmse,
  );
  perVersion(
    "platform_model_error_drift_detections",
    "Changes ADWIN / Page-Hinkley flagged in the version's live error",
    (s) => s.live.snapshot().errorDriftDetections,
  );
  new Gauge({
    name: "platform_model_forecast_failures",
    help: "Window forecasts the node could not make (the model was being swapped or failed)",
    registers: [registry],
    collect() {
      this.set(predictFailures());
    },
  });
}

function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
