import { join } from "node:path";
import { onlineDistrictHours } from "../actors/model-shard/district-hours.ts";
import type { ModelEvent } from "../actors/model-shard/model-events.ts";
import { ModelServing, p99LatencyMs, type VersionStats } from "../actors/model-shard/model-serving.ts";
import { TrafficForecaster } from "../actors/model-shard/traffic-forecaster.ts";
import { UtilityForecaster } from "../actors/model-shard/utility-forecaster.ts";
import { type ClosedWindow, WindowForecasts } from "../actors/model-shard/window-forecasts.ts";
import { DriftTrigger } from "../actors/retrain/drift-trigger.ts";
import { firstTraining } from "../actors/retrain/first-training.ts";
import { forecastPolicy } from "../actors/retrain/forecast-policies.ts";
import { ModelLifecycle } from "../actors/retrain/model-lifecycle.ts";
import { restoreServing } from "../actors/retrain/restore-serving.ts";
import { RetrainCoordinator } from "../actors/retrain/retrain-coordinator.ts";
import type { AuditLog, AuditRecord } from "../api/gateway/audit-log.ts";
import type { HealthCheck } from "../api/health.ts";
import { observeCount, observeModelVersions, type VersionFigure } from "../api/models/model-metrics.ts";
import { modelRoutes } from "../api/models/routes.ts";
import type { FeatureStore } from "../features/feature-store.ts";
import type { MetricSample } from "../messages/alert.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import type { Prediction } from "../messages/prediction.ts";
import { Topics } from "../messages/topics.ts";
import { FeatureStoreTrainingSource } from "../ml/lifecycle/feature-store-training-source.ts";
import { TRAFFIC_DISTRICT_FIELDS } from "../ml/lifecycle/traffic-forecast-features.ts";
import { countTrafficWindows, trafficTrainingSet } from "../ml/lifecycle/traffic-training-set.ts";
import { UTILITY_DISTRICT_FIELDS } from "../ml/lifecycle/utility-forecast-features.ts";
import { countUtilityHours, utilityTrainingSet } from "../ml/lifecycle/utility-training-set.ts";
import { EmbeddedModelRegistry } from "../ml/registry/embedded/embedded-model-registry.ts";
import { MlflowModelRegistry } from "../ml/registry/mlflow/mlflow-model-registry.ts";
import type { ModelRegistry } from "../ml/registry/model-registry.ts";
import { EmbeddedTrackingStore } from "../ml/tracking/embedded/embedded-tracking-store.ts";
import { MlflowTrackingStore } from "../ml/tracking/mlflow/mlflow-tracking-store.ts";
import type { TrackingStore } from "../ml/tracking/tracking-store.ts";
import { TableSink } from "../sinks/table-sink.ts";
import { createActorSystem } from "../supervisor/actor-system.ts";
import type { NodeConfig } from "./config.ts";
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
  const { tracking, registry } = openModelStores(config);
  const system = createActorSystem({ name: "models" });
  const events: ModelEvent[] = [];
  const onEvent = (event: ModelEvent) => {
    events.push(event);
    if (events.length > EVENTS_KEPT) events.shift();
    feeds.publish("models", event);
    // every loop step in the audit trail, beside the API's writes
    options.audit.record(auditEntryOf(event)).catch(failures.logUnavailable);
  };
  const serving = new ModelServing({
    ...{ system, registry, tracking, now: Date.now, hrtimeMs: () => performance.now(), onEvent },
  });
  const store = options.features;
  const withDistrict = options.districtOf ? { districtOf: options.districtOf } : {};
  const maxRows = config.modelsHistoryWindows;
  const source = new FeatureStoreTrainingSource(store, {
    [TRAFFIC_FORECAST]: (s) => trafficTrainingSet(s, { ...withDistrict, maxRows }),
    [UTILITY_FORECAST]: (s) => utilityTrainingSet(s, { ...withDistrict, maxRows }),
  });
  const coordinator = new RetrainCoordinator({ serving, registry, tracking, source, now: Date.now, onEvent });
  const policies = {
    [TRAFFIC_FORECAST]: forecastPolicy(TRAFFIC_FORECAST, 120, config.modelsRetrainEveryMs),
    // hours, not minutes: far fewer rows, so fewer trees
    [UTILITY_FORECAST]: forecastPolicy(UTILITY_FORECAST, 80, config.modelsRetrainEveryMs),
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
  const forecasts = new WindowForecasts({
    traffic: new TrafficForecaster({
      ...{ ...live, model: TRAFFIC_FORECAST },
      ...(store ? { districtHours: (d) => onlineDistrictHours(store, d, TRAFFIC_DISTRICT_FIELDS) } : {}),
    }),
    utility: new UtilityForecaster({
      ...{ ...live, model: UTILITY_FORECAST },
      ...(store ? { districtHours: (d) => onlineDistrictHours(store, d, UTILITY_DISTRICT_FIELDS) } : {}),
    }),
    ...(options.flushPublished ? { flushPublished: options.flushPublished } : {}),
    onError: failures.logUnavailable,
  });
  const sink = new TableSink<ClosedWindow>({
    ...{
      // the traffic name is the consumer group's: kept, so a node that ran before resumes there
      name: "models-traffic",
      log,
      applicationId: config.applicationId,
      topics: [Topics.processed("traffic"), Topics.processed("utility")],
    },
    decode: codec.decode,
    refreshSchemas: codec.refresh,
    toRows: (value) => forecasts.rowsOf(value),
    target: { write: (batch) => forecasts.closed(batch.rows) },
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
  // the schedule, data drift, and each served version's live error for the alert rules
  const drift = new DriftTrigger(serving, coordinator);
  const tick = setInterval(() => {
    coordinator.tick();
    for (const [model, policy] of Object.entries(policies))
      drift.check(model, policy.triggers.postChangeLabels ?? 0);
    if (options.sample) for (const sample of liveErrorSamples(serving, Date.now())) options.sample(sample);
  }, 10_000);
  observeModelVersions(metrics.registry, SERVING_FIGURES, () => servedVersions(serving));
  observeCount(
    metrics.registry,
    "platform_model_forecast_failures",
    "Window forecasts the node could not make (the model was being swapped or failed)",
    () => forecasts.failures(),
  );

  const lifecycle = new ModelLifecycle({
    serving,
    registry,
    loopOf,
    events: () => events,
    onEvent,
    now: Date.now,
  });
  return {
    routes: modelRoutes(lifecycle, failures.logUnavailable),
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

/** tracking and registry: MLflow's when MLFLOW_URL is set, else embedded in DATA_DIR/models */
function openModelStores(config: NodeConfig): { tracking: TrackingStore; registry: ModelRegistry } {
  if (config.mlflowUrl) {
    const mlflow = {
      url: config.mlflowUrl,
      ...(process.env.MLFLOW_TRACKING_TOKEN ? { token: process.env.MLFLOW_TRACKING_TOKEN } : {}),
    };
    return { tracking: new MlflowTrackingStore(mlflow), registry: new MlflowModelRegistry(mlflow) };
  }
  const dir = join(config.dataDir, "models");
  return { tracking: EmbeddedTrackingStore.open({ dir }), registry: EmbeddedModelRegistry.open({ dir }) };
}

/** a lifecycle step in the audit trail, as the API's writes are */
function auditEntryOf(event: ModelEvent): AuditRecord {
  return {
    time: event.at,
    actor: event.by,
    role: null,
    via: "model-lifecycle",
    method: "EVENT",
    path: `/models/${event.model}/${event.type}${event.version ? `/${event.version}` : ""}`,
    address: null,
    status: 200,
    outcome: "done",
  };
}

/** each served version's recent error against its own usual error (model-error-up), once labelled */
function liveErrorSamples(serving: ModelServing, at: number): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const model of serving.modelNames())
    for (const [version, stats] of serving.statsOf(model)) {
      const ratio = stats.live.errorRatio();
      if (ratio !== undefined)
        samples.push({ metric: "model_live_error_ratio", value: ratio, labels: { model, version }, at });
    }
  return samples;
}

/** what /metrics shows of each served version (platform_model_*) */
const SERVING_FIGURES: readonly VersionFigure<VersionStats>[] = [
  [
    "platform_model_requests",
    "Predict requests answered per model version since the node started",
    (s) => s.requests,
  ],
  ["platform_model_rows", "Rows scored per model version (served), since the node started", (s) => s.rows],
  ["platform_model_shadow_rows", "Rows a shadow version scored without serving them", (s) => s.shadowRows],
  ["platform_model_failures", "Scorings that failed per model version", (s) => s.failures],
  [
    "platform_model_latency_p99_ms",
    "p99 scoring time of a batch in the version's shard (last 2048)",
    (s) => p99LatencyMs(s),
  ],
  [
    "platform_model_live_outcomes",
    "Labelled outcomes joined to the version's predictions",
    (s) => s.live.snapshot().outcomes,
  ],
  [
    "platform_model_live_mae",
    "The version's MAE over its recent labelled outcomes",
    (s) => s.live.snapshot().recentMae,
  ],
  [
    "platform_model_live_rmse",
    "The version's RMSE over its recent labelled outcomes",
    (s) => s.live.snapshot().recentRmse,
  ],
  [
    "platform_model_error_drift_detections",
    "Changes ADWIN / Page-Hinkley flagged in the version's live error",
    (s) => s.live.snapshot().errorDriftDetections,
  ],
];

function* servedVersions(serving: ModelServing) {
  for (const model of serving.modelNames())
    for (const [version, stats] of serving.statsOf(model)) yield [model, version, stats] as const;
}
