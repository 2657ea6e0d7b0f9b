import { mkdir } from "node:fs/promises";
import { type AlertSignals, startAlertSignals } from "../actors/alert/alert-signals.ts";
import { servedDriftCheck } from "../actors/model-shard/served-drift-check.ts";
import { windowSpecOf } from "../actors/window/sensor-windows.ts";
import { startingApp } from "../api/app.ts";
import { FeedHub } from "../api/feeds/feed-hub.ts";
import { nodeHealth } from "../api/health.ts";
import { LiveView } from "../api/live-view.ts";
import { PlatformMetrics } from "../api/metrics.ts";
import { type ApiServer, serveApi } from "../api/server.ts";
import { openActorStateStores } from "../engine/actor-state.ts";
import { startMembership } from "../engine/membership.ts";
import type { PartitionHostSetup } from "../engine/partition-host-setup.ts";
import { followTopic } from "../engine/reference-table-feed.ts";
import { StopBudget, withinStopDeadline } from "../engine/stop-deadline.ts";
import { type StreamEngine, startStreamEngine } from "../engine/stream-engine.ts";
import type { Log } from "../log/log.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { type SensorRegistryRecord, sensorRegistryKind } from "../messages/reference-data.ts";
import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import { OutputRouter } from "../sinks/output-router.ts";
import { createSensorFleet, type SensorFleet } from "../sources/iot/sensor-fleet.ts";
import type { SensorPublisher } from "../sources/iot/sensor-publisher.ts";
import { publishSensorRegistry } from "../sources/reference/sensor-registry.ts";
import { ReferenceTable } from "../stream/enrichment/reference-table.ts";
import { aggregateTopics } from "./aggregates.ts";
import { alertingOf } from "./alerting.ts";
import type { NodeConfig } from "./config.ts";
import { type NodeEdge, startEdge } from "./edge.ts";
import { NodeFailures } from "./failures.ts";
import { startFeatures } from "./features.ts";
import { startHousekeeping } from "./housekeeping.ts";
import { startLake } from "./lake.ts";
import { type MainActors, startMainActors } from "./main-actors.ts";
import { startMarket } from "./market.ts";
import { startMarketDirection } from "./market-direction.ts";
import { type NodeModels, startModels, TRAFFIC_FORECAST } from "./models.ts";
import { startNews } from "./news.ts";
import { nodeApp, openNodeAccess } from "./node-api.ts";
import { countCorruptChangelog, type NodeContext } from "./node-context.ts";
import { type NodeLog, openNodeLog } from "./node-log.ts";
import { startTimeSeries } from "./timeseries.ts";

/**
 * The composition root of one node: opens the log, starts the MQTT broker (embedded unless
 * MQTT_URL), starts the partition hosts (workers or in-process), the
 * main-thread actors, the dispatcher, ingest, the simulator and the API. `stop()` shuts down in
 * the reverse order of the data path: sources first, then ingest, dispatch (commit), actors,
 * sinks, API, log.
 */
export interface RunningNode {
  readonly config: NodeConfig;
  readonly apiUrl: string;
  readonly mqttUrl: string;
  readonly log: Log;
  readonly view: LiveView;
  readonly feeds: FeedHub;
  readonly metrics: PlatformMetrics;
  readonly fleet: SensorFleet;
  readonly publisher: SensorPublisher | undefined;
  /** the traffic forecast's version serving here, undefined while it has no champion (or MODELS=off) */
  readonly modelVersion: string | undefined;
  progress(): NodeProgress;
  /** terminate one Bun worker abruptly, as a crash would (failure tests and drills) */
  killWorker(worker: number): void;
  /** terminate the time-series sinks' thread abruptly (failure tests and drills) */
  killSinkThread(): void;
  stop(): Promise<void>;
}

export interface NodeProgress {
  readonly ingested: number;
  readonly rejected: number;
  readonly consumed: number;
  readonly outputs: number;
  readonly alerts: number;
  readonly actors: number;
  readonly workers: number;
}

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  await mkdir(config.dataDir, { recursive: true });
  const feeds = new FeedHub();
  const server = listen(config, feeds); // /health says 503 "starting" until the node is up
  const { log, partitions, registry, codec, walCheckpoints, corruptBatches } = await openNodeLog(config);
  const sensorIntervalMs = sensorIntervalOf(config);
  const node = nodeContextOf(config, { log, codec, partitions, feeds }, sensorIntervalMs, {
    ...(walCheckpoints ? { walCheckpoints } : {}),
    ...(corruptBatches ? { corruptBatches } : {}),
  });
  const { metrics, view, failures, counters } = node;
  const fleet = createSensorFleet({ ...fleetOf(config), intervalMs: sensorIntervalMs });
  await publishSensorRegistry(log, fleet);
  const sensorRegistry = await followSensorRegistry(node);
  const actorState = await openActorStateStores(log, {
    ...{ applicationId: config.applicationId, partitions },
    onCorrupt: countCorruptChangelog(node),
  });
  // every output, of the partition hosts and of the main-thread actors, leaves through one
  // router; the parts it reports to start after it
  const later: LaterParts = {};
  const router = outputRouterOf(node, { sensorRegistry: sensorRegistry.table, actorState, later });
  const sinkDeadLetter = (letter: DeadLetter) => router.deadLetter(letter, "sink");
  const alerting = await alertingOf(config, feeds);
  const main = await startMainActors(node, {
    // against the reference of the version serving the model here (its feature view statistics)
    createDriftCheck: (name, restored) =>
      servedDriftCheck(name, (m) => later.models?.serving.servingVersion(m), {
        ...{ sampleSize: 500, minSampleSize: 30, restored },
      }),
    alerting,
    outputs: router,
    onDeadLetter: (letter, topic) => router.deadLetter(letter, "log", Topics.deadLettersOf(topic)),
  });
  later.main = main;
  const news = await startNews(node, router);
  const market = await startMarket(node, registry);
  // the sinks after the rooms whose topics they read
  const lake = await startLake(node, sinkDeadLetter);
  const features = await startFeatures(node, sinkDeadLetter);
  const timeseries = startTimeSeries(node, sinkDeadLetter);
  const membership = await startMembership({
    ...{ log, applicationId: config.applicationId, apiUrl: server.url, partitions },
    onReadError: failures.logUnavailable,
  });
  const engine = await startSensorEngine(node, { router, actorState, membership, sensorIntervalMs });
  later.engine = engine;
  const { hosts, dispatcher } = engine;
  const signals = startNodeSignals(node, { apiUrl: server.url, main, consumed: () => dispatcher.consumed });
  later.signals = signals;
  const edge = await startEdge(node, { system: main.system, fleet });
  const health = edgeHealth(node, edge, walCheckpoints);
  const sample = main.sample;
  const housekeeping = startHousekeeping(node, { main: main.system, hosts, health, membership, sample });
  const access = await openNodeAccess(node);
  const models = await startModels(node, {
    ...{ audit: access.audit, deadLetter: sinkDeadLetter, sample, features: features?.store },
    // the forecasts leave through the router like every output: ml.predictions, drift, /ws
    publish: (prediction) => router.route({ type: "prediction", prediction, ingestedAt: Date.now() }),
    flushPublished: () => router.flush(),
    districtOf: (sensorId) => sensorRegistry.table.get(sensorId)?.district ?? undefined,
  });
  later.models = models;
  // the market room's model runs on the models room's serving, trained from the feature store
  const marketModel =
    market && models && features ? await startMarketDirection(node, { market, models, features }) : undefined;
  server.use(
    nodeApp(node, {
      ...{ access, health, registry, membership, hosts, main: main.system, housekeeping },
      ...{ timeseries, lake, features, models, news, market, sensorRegistry: sensorRegistry.table },
      alerts: { active: main.activeAlerts, silences: alerting.silences, flushed: alerting.flushed },
    }),
    access.gateway,
  );
  return {
    ...{ config, apiUrl: server.url, mqttUrl: edge.mqttUrl, log, view, feeds, metrics, fleet },
    publisher: edge.publisher,
    get modelVersion() {
      return models?.championOf(TRAFFIC_FORECAST);
    },
    killWorker: (worker) => hosts.killWorker(worker),
    killSinkThread: () => timeseries.killSinkThread(),
    progress: () => ({
      ...counters,
      consumed: dispatcher.consumed,
      actors: main.system.stats().actors,
      workers: hosts.workers,
    }),
    stop: stopInOrder(failures, config.stopTimeoutMs, {
      ...{ housekeeping, signals, edge, news, market, main, engine, marketModel, router },
      ...{ timeseries, lake, features, models, membership, server, access, sensorRegistry, registry, log },
    }),
  };
}

/** the parts the output router reports to, which start after it */
interface LaterParts {
  main?: MainActors;
  engine?: StreamEngine;
  signals?: AlertSignals;
  models?: NodeModels;
}

/** what the node runs, in the order it stops */
interface StoppableParts {
  readonly housekeeping: { stop(): void };
  readonly signals: { stop(): void };
  readonly edge: NodeEdge;
  readonly news: { stop(budget: StopBudget): Promise<void> } | undefined;
  readonly market: { stop(budget: StopBudget): Promise<void> } | undefined;
  readonly main: MainActors;
  readonly engine: StreamEngine;
  readonly marketModel: { stop(): Promise<void> } | undefined;
  readonly router: OutputRouter;
  readonly timeseries: { stop(): Promise<void> };
  readonly lake: { stop(): Promise<void> } | undefined;
  readonly features: { stop(): Promise<void> } | undefined;
  readonly models: { stop(): Promise<void> } | undefined;
  readonly membership: { stop(): Promise<void> };
  readonly server: ApiServer;
  readonly access: { stop(): Promise<void> };
  readonly sensorRegistry: { stop(): Promise<void> };
  readonly registry: { close(): Promise<void> };
  readonly log: Log;
}

/**
 * The node's stop: the reverse of the data path, sources, ingest, dispatch (commit), actors,
 * sinks, API, log; in all within `budgetMs` (STOP_TIMEOUT_MS), as Kafka Streams' close(timeout).
 * Intake stops first (the MQTT subscriber hands over what it took and reads no further); the
 * engines then checkpoint and commit what their actors processed, and a backlog they cannot
 * process in what is left of the budget is abandoned with its offsets uncommitted, read again at
 * the next start. Nothing acknowledged is lost: a reading is acknowledged once appended. Each
 * part that takes long is said, so an operator sees which part held the stop. A second call
 * does nothing.
 */
function stopInOrder(failures: NodeFailures, budgetMs: number, parts: StoppableParts): () => Promise<void> {
  let stopped = false;
  const took: string[] = [];
  const step = async (part: string, stopping: () => Promise<unknown> | undefined) => {
    const began = performance.now();
    await stopping();
    const tookMs = performance.now() - began;
    took.push(`${part} ${Math.round(tookMs)} ms`);
    if (tookMs > SLOW_STOP_STEP_MS) console.warn(`stop: ${part} took ${Math.round(tookMs)} ms`);
  };
  return async () => {
    if (stopped) return;
    stopped = true;
    const budget = new StopBudget(budgetMs);
    const { main, router } = parts;
    parts.housekeeping.stop();
    parts.signals.stop();
    await step("sources", () => parts.edge.stopSources(budget));
    // the news and market rooms are independent of each other and of the sensor path: they
    // stop beside it, so a slow group leave there does not hold the sensor partitions' hand-over
    const engineBudget = budget.part(ENGINE_SHARE_OF_STOP);
    const rooms = step("news and market", () =>
      Promise.all([parts.news?.stop(engineBudget), parts.market?.stop(engineBudget)]),
    );
    // no drain of the main actors first: the ingest handed over with the subscriber's stop, and
    // under load the alert router's queued samples alone outlasted the whole budget
    await step("stream engine", () => parts.engine.stop(engineBudget).catch(failures.stopIncomplete));
    await rooms;
    await step("market model", () => parts.marketModel?.stop());
    await step("outputs", () => router.flush().catch(failures.fail));
    await step("main actors", () => main.stop(budget));
    // sinks read the log on their own consumer groups: they leave them side by side. A sink
    // whose target is slow (a store down) is left past the budget's closes: it commits only
    // after its writes, so what it did not commit is written again (idempotently) at the next start
    const sinks = Promise.all([
      parts.timeseries.stop(),
      parts.lake?.stop(),
      parts.features?.stop(),
      parts.models?.stop(),
    ]);
    await step("sinks", () =>
      withinStopDeadline(sinks, "the sinks", budget.forCloseMs()).catch(failures.stopIncomplete),
    );
    await step("membership", () => parts.membership.stop().catch(failures.fail));
    await step("API", () => parts.server.stop());
    await step("access", () => parts.access.stop());
    await step("MQTT broker", () => parts.edge.stopBroker());
    await step("sensor registry", () => parts.sensorRegistry.stop());
    await step("schema registry", () => parts.registry.close());
    await step("log", () => parts.log.close());
    if (budget.overrunMs() > 0)
      console.warn(
        `stop: took ${Math.round(budget.overrunMs())} ms more than its ${budgetMs} ms (STOP_TIMEOUT_MS): ${took.join(", ")}`,
      );
  };
}

/** what each simulated sensor's interval is: the fleet publishes `rate` readings a second in all */
function sensorIntervalOf(config: NodeConfig): number {
  return Math.max(1, Math.round((1000 * config.sensorsPerType * SENSOR_TYPES.length) / config.rate));
}

function fleetOf(config: NodeConfig) {
  return { seed: config.seed, sensorsPerType: config.sensorsPerType };
}

/** what every part of the node is wired with */
function nodeContextOf(
  config: NodeConfig,
  opened: Pick<NodeContext, "log" | "codec" | "partitions" | "feeds">,
  sensorIntervalMs: number,
  logStats: Pick<NodeLog, "walCheckpoints" | "corruptBatches">,
): NodeContext {
  const metrics = new PlatformMetrics();
  const view = new LiveView({ qualityWindowMs: config.windowMs, sensorIntervalMs });
  metrics.observe({
    feeds: () => opened.feeds.stats(),
    readModel: () => ({ evictions: view.evictions(), sizes: view.sizes() }),
    ...logStats,
  });
  return {
    ...{ ...opened, config, metrics, view },
    failures: new NodeFailures(),
    counters: { ingested: 0, rejected: 0, outputs: 0, alerts: 0 },
  };
}

/**
 * The one router every output leaves through: the repartition topics of the per-type windows
 * and drift monitors, the read model, the feeds, the metrics and the alert samples; the
 * partition hosts' actor state is saved through it, so a checkpoint waits for the outputs.
 */
function outputRouterOf(
  node: NodeContext,
  deps: {
    readonly sensorRegistry: ReferenceTable<SensorRegistryRecord>;
    readonly actorState: Awaited<ReturnType<typeof openActorStateStores>>;
    readonly later: LaterParts;
  },
): OutputRouter {
  const { config, log, codec, view, feeds, metrics, failures } = node;
  const { actorState, later } = deps;
  return new OutputRouter({
    ...{ log, encode: codec.encode, view, feeds, metrics, sensorRegistry: deps.sensorRegistry },
    repartition: aggregateTopics(config.applicationId),
    sample: (sample) => {
      later.signals?.observe(sample);
      later.main?.sample(sample);
    },
    onMark: (worker, batch) => later.engine?.markDone(worker, batch),
    onEvent: (event) => {
      countWorkerRestart(metrics, event);
      later.signals?.event(event);
    },
    onError: failures.fail,
    now: Date.now,
    saveState: (kind, key, partition, state) => actorState.save(kind, key, partition, state),
    flushState: () => actorState.flush(),
    onCorruptState: (report) =>
      actorState.corrupt(report.kind, report.key, new PlatformError(report.code, report.reason)),
  });
}

/**
 * The sensor path's engine: the dispatcher reads the raw readings and hands them to the
 * partition hosts; their outputs leave through the router, and each assignment is announced.
 */
function startSensorEngine(
  node: NodeContext,
  deps: {
    readonly router: OutputRouter;
    readonly actorState: Awaited<ReturnType<typeof openActorStateStores>>;
    readonly membership: { announce(owned: readonly number[]): Promise<void> };
    readonly sensorIntervalMs: number;
  },
): Promise<StreamEngine> {
  const { config, log, codec, partitions, metrics, failures, counters } = node;
  const { router } = deps;
  return startStreamEngine({
    ...{ log, applicationId: config.applicationId, partitions, workers: config.workers },
    setup: hostSetup(config, deps.sensorIntervalMs),
    ...{ commitIntervalMs: config.commitIntervalMs, state: deps.actorState, decode: codec.decode },
    readingJsonStart: codec.readingJsonStart,
    ...(codec.refresh ? { refreshSchemas: codec.refresh } : {}),
    onOutput: (output) => {
      counters.outputs++;
      router.route(output);
    },
    onDeadLetter: (letter, topic) => router.deadLetter(letter, "log", topic),
    onConsumed: (n) => metrics.messagesByTopic.inc({ topic: Topics.sensorsRaw, direction: "in" }, n),
    onAssignment: (owned) => deps.membership.announce(owned).catch(failures.fail),
    ...{ onTransientError: failures.retrying, onError: failures.fail },
  });
}

/** the node's own health as samples for the alert rules (system, data, model signals) */
function startNodeSignals(
  { config, log, partitions, view, failures }: NodeContext,
  deps: { readonly apiUrl: string; readonly main: MainActors; readonly consumed: () => number },
): AlertSignals {
  const signals = startAlertSignals({
    ...{ log, applicationId: config.applicationId, partitions, dataDir: config.dataDir, view },
    ...{ node: new URL(deps.apiUrl).host, consumed: deps.consumed },
    ...{
      crashWindowMs: config.alertCrashWindowMs,
      sample: deps.main.sample,
      onError: failures.logUnavailable,
    },
  });
  deps.main.system.events.subscribe((event) => signals.event(event));
  return signals;
}

/**
 * the sensor engine's share of the stop's work time: the rest is the per-type aggregates' last
 * checkpoint's, which under a sensor backlog is cheap (a few records) and worth committing
 */
const ENGINE_SHARE_OF_STOP = 0.75;

/** a part of the stop that takes longer than this is said on stderr */
const SLOW_STOP_STEP_MS = 2000;

/** the API from the first moment; a taken port fails the start in one clear line */
function listen(config: NodeConfig, feeds: FeedHub): ApiServer {
  try {
    const tls =
      config.tlsCertFile && config.tlsKeyFile
        ? { tls: { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile } }
        : {};
    return serveApi({ app: startingApp(), feeds, port: config.port, hostname: config.host, ...tls });
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.INFRA_UNAVAILABLE,
      `the API cannot listen on ${config.host}:${config.port} (set PORT or --port, 0 for any free port)`,
      { cause },
    );
  }
}

/** what every partition host builds its actors from (plain data: it crosses to the workers) */
function hostSetup(config: NodeConfig, sensorIntervalMs: number): PartitionHostSetup {
  return {
    window: windowSpecOf(config),
    anomalyDetector: config.anomalyDetector,
    graceMs: config.graceMs,
    maxOutOfOrdernessMs: Math.min(2000, config.graceMs),
    idleTimeoutMs: config.partitionIdleMs,
    sensorIntervalMs,
    utcOffsetMinutes: 0,
    tickMs: 1000,
    passivateAfterMs: config.sensorIdleMs,
    windowUpdateFlush: config.windowUpdateFlush,
  };
}

/**
 * The sensor registry is a compacted topic the node follows, so registry changes join into the
 * very next readings (a GlobalKTable: one full copy per node, on the main thread).
 */
async function followSensorRegistry({ log, metrics, failures }: NodeContext) {
  const table = new ReferenceTable({
    kind: sensorRegistryKind,
    // the table keeps the previous row; the bad record is counted like any dead letter
    onInvalid: (record) =>
      metrics.deadLetters.inc({ source: `log:${record.topic}`, code: ErrorCodes.SCHEMA_VIOLATION }),
  });
  const stopFollowing = new AbortController();
  const follower = followTopic(table, log, Topics.sensorRegistry, {
    signal: stopFollowing.signal,
    onError: failures.logUnavailable,
  });
  await follower.ready;
  return {
    table,
    async stop() {
      stopFollowing.abort();
      await follower.stop();
    },
  };
}

/**
 * The node's health: actors and log answering (fed by housekeeping), the MQTT subscriber
 * connected and, while the simulator runs, receiving, and the embedded log's WAL checkpoints.
 */
function edgeHealth(
  { config, failures }: NodeContext,
  edge: NodeEdge,
  walCheckpoints: NodeLog["walCheckpoints"],
) {
  const mqtt = () => edge.subscriber.stats();
  return nodeHealth({
    fatal: () => failures.fatal,
    mqtt: {
      received: () => mqtt().received,
      reconnects: () => mqtt().reconnects,
      connected: () => mqtt().connected,
      disconnects: () => mqtt().disconnects,
    },
    expectMqttTraffic: config.simulate,
    // the simulator's rate: ingest far below it means the ingest is being cut off
    ...(config.simulate ? { expectedMqttRate: config.rate } : {}),
    // the simulator publishes `rate` readings a second: ten silent intervals, at least 10 s
    mqttMaxSilenceMs: Math.max(10_000, Math.ceil(10_000 / config.rate)),
    startedAt: Date.now(),
    ...(walCheckpoints ? { walCheckpoints } : {}),
  });
}

/** supervision events of the workers (and the pool's worker restarts) count as restarts */
function countWorkerRestart(metrics: PlatformMetrics, event: unknown): void {
  const e = event as { type?: string; decision?: string; strategy?: string };
  if (e.type === "supervision")
    metrics.restarts.inc({ decision: e.decision ?? "", strategy: e.strategy ?? "" });
  else if (e.type === "worker-restarted")
    metrics.restarts.inc({ decision: "restart-worker", strategy: "one_for_one" });
}
