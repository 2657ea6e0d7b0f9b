import { mkdir } from "node:fs/promises";
import { trafficDriftCheck, trainStartupModel } from "../actors/model-shard/traffic-model.ts";
import { windowSpecOf } from "../actors/window/sensor-windows.ts";
import { createApp, startingApp } from "../api/app.ts";
import { FeedHub } from "../api/feeds/feed-hub.ts";
import { nodeHealth } from "../api/health.ts";
import { PlatformMetrics } from "../api/metrics.ts";
import { schemaRegistryRoutes } from "../api/schema-registry/routes.ts";
import { type ApiServer, serveApi } from "../api/server.ts";
import { openActorStateStores } from "../engine/actor-state.ts";
import { Dispatcher } from "../engine/dispatcher.ts";
import { inProcessHosts } from "../engine/in-process-hosts.ts";
import { type Membership, startMembership } from "../engine/membership.ts";
import type { PartitionHostSetup } from "../engine/partition-host-setup.ts";
import type { PartitionHosts } from "../engine/partition-hosts.ts";
import { followTopic } from "../engine/reference-table-feed.ts";
import { workerHosts } from "../engine/worker-hosts.ts";
import { LiveView } from "../lake/live-view.ts";
import type { Log } from "../log/log.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import { partitionFor } from "../messages/murmur2.ts";
import { sensorRegistryKind } from "../messages/reference-data.ts";
import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import { OutputRouter } from "../sinks/output-router.ts";
import { createSensorFleet, type SensorFleet } from "../sources/iot/sensor-fleet.ts";
import type { SensorPublisher } from "../sources/iot/sensor-publisher.ts";
import { publishSensorRegistry } from "../sources/reference/sensor-registry.ts";
import { ReferenceTable } from "../stream/enrichment/reference-table.ts";
import { createActorSystem, InMemorySnapshotStore } from "../supervisor/index.ts";
import { openAggregates } from "./aggregates.ts";
import { alertingOf } from "./alerting.ts";
import type { NodeConfig } from "./config.ts";
import { startEdge } from "./edge.ts";
import { startMainActors } from "./main-actors.ts";
import { openNodeLog } from "./node-log.ts";

/**
 * The composition root of one node: opens the log, starts the MQTT broker (embedded unless
 * MQTT_URL), trains the start-up model, starts the partition hosts (workers or in-process), the
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
  readonly modelVersion: string;
  progress(): NodeProgress;
  /** terminate one Bun worker abruptly, as a crash would (failure tests and drills) */
  killWorker(worker: number): void;
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

const TRANSIENT_LOG_ERRORS: ReadonlySet<string> = new Set([
  ErrorCodes.LOG_BROKER_UNAVAILABLE,
  ErrorCodes.LOG_REBALANCE,
  ErrorCodes.INFRA_UNAVAILABLE,
]);

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  await mkdir(config.dataDir, { recursive: true });
  // the API answers from the first moment: /health is 503 "starting" until the node is ready
  const feeds = new FeedHub();
  let server: ApiServer;
  try {
    server = serveApi({ app: startingApp(), feeds, port: config.port, hostname: config.host });
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.INFRA_UNAVAILABLE,
      `the API cannot listen on ${config.host}:${config.port} (set PORT or --port, 0 for any free port)`,
      { cause },
    );
  }
  const { log, partitions, registry, codec } = await openNodeLog(config);

  const metrics = new PlatformMetrics();
  const counters = { ingested: 0, rejected: 0, outputs: 0, alerts: 0 };
  let fatal: unknown;
  const failNode = (error: unknown) => {
    fatal ??= error;
    console.error(`node failed: ${error instanceof Error ? error.message : String(error)}`);
  };
  // The log being away for a while (a broker restart) is waited out by the parts that use it;
  // it is reported (at most every 5 s), and fails the node only if it is not transient.
  let lastUnavailableReport = 0;
  const logUnavailable = (error: unknown) => {
    if (!isPlatformError(error) || !TRANSIENT_LOG_ERRORS.has(error.code)) return failNode(error);
    if (Date.now() - lastUnavailableReport < 5000) return;
    lastUnavailableReport = Date.now();
    console.error(`log unavailable, retrying: ${error.message}`);
  };

  const model = trainStartupModel(config.seed);
  const totalSensors = config.sensorsPerType * SENSOR_TYPES.length;
  const sensorIntervalMs = Math.max(1, Math.round((1000 * totalSensors) / config.rate));
  const view = new LiveView({ qualityWindowMs: config.windowMs, sensorIntervalMs });
  const setup: PartitionHostSetup = {
    window: windowSpecOf(config),
    anomalyDetector: config.anomalyDetector,
    graceMs: config.graceMs,
    maxOutOfOrdernessMs: Math.min(2000, config.graceMs),
    idleTimeoutMs: config.partitionIdleMs,
    sensorIntervalMs,
    model: { json: model.json, version: model.version },
    utcOffsetMinutes: 0,
    tickMs: 1000,
    passivateAfterMs: config.sensorIdleMs,
  };

  const mainSnapshots = new InMemorySnapshotStore();
  const mainSystem = createActorSystem({ name: "main", snapshots: mainSnapshots });
  mainSystem.events.subscribe((event) => {
    feeds.publish("supervisor", event);
    if (event.type === "supervision")
      metrics.restarts.inc({ decision: event.decision, strategy: event.strategy });
  });

  const { rules, deliveries } = await alertingOf(config, feeds);

  const appendJson = (topic: string, key: string, value: unknown, timestamp: number) =>
    codec
      .encode(topic, value)
      .then((bytes) => log.append([{ topic, key, value: bytes, timestamp }]))
      .catch(failNode);

  // Per-type windows and drift monitors have one owner in the application: their inputs go
  // through repartition topics, their state into changelogs (engine/repartitioned-aggregates.ts).
  const aggregates = await openAggregates({
    config,
    log,
    codec,
    system: mainSystem,
    snapshots: mainSnapshots,
    partitions,
    onDeadLetter: (letter, topic) => router.deadLetter(letter, "log", Topics.deadLettersOf(topic)),
    onCorrupt: (kind) =>
      metrics.deadLetters.inc({ source: `changelog:${kind}`, code: ErrorCodes.DECODE_FAILED }),
    onTransientError: logUnavailable,
    onError: failNode,
  });

  const actors = startMainActors({
    system: mainSystem,
    createDriftCheck: (_name, restored) =>
      trafficDriftCheck(model, { sampleSize: 500, minSampleSize: 30, restored }),
    onState: (kind, key, state) => aggregates.engine.saveState(kind, key, state),
    rules,
    deliveries,
    // the per-sensor grace, the slowest partition's idle timeout, and a margin for delivery
    closeTypeWindowsAfterMs: config.graceMs + config.partitionIdleMs + 5000,
    driftEvaluateEveryMs: 10_000,
    onTypeWindow: (window) => {
      view.window(window);
      feeds.publish("windows", window);
      if (window.final) void appendJson(Topics.processed(window.type), window.key, window, window.window_end);
    },
    onLateTypeWindow: (window) => metrics.lateRecords.inc({ stream: `type:${window.type}` }),
    onDriftReport: (report) => {
      view.driftReport(report);
      feeds.publish("drift", report);
      metrics.driftScore.set({ model: report.model, feature: report.feature }, report.score);
      actors.alerts.tell({
        type: "sample",
        sample: {
          metric: "drift_score",
          value: report.score,
          labels: { model: report.model, feature: report.feature },
          at: report.at,
        },
      });
      void appendJson(Topics.drift, `${report.model}/${report.feature}`, report, report.at);
    },
    onAlert: (alert) => {
      counters.alerts++;
      view.alert(alert);
      metrics.alerts.inc({ rule: alert.rule, severity: alert.severity });
      void appendJson(Topics.alerts, alert.rule, alert, alert.at);
    },
    onDeliveryFailure: (channel) => metrics.alertDeliveryFailures.inc({ channel }),
    now: Date.now,
  });

  // The sensor registry is a compacted topic; the node follows it, so registry changes join
  // into the very next readings (a GlobalKTable: one full copy per node, on the main thread).
  const fleet = createSensorFleet({
    seed: config.seed,
    sensorsPerType: config.sensorsPerType,
    intervalMs: sensorIntervalMs,
  });
  await publishSensorRegistry(log, fleet);
  const sensorRegistry = new ReferenceTable({
    kind: sensorRegistryKind,
    // the table keeps the previous row; the bad record is counted like any dead letter
    onInvalid: (record) =>
      metrics.deadLetters.inc({ source: `log:${record.topic}`, code: ErrorCodes.SCHEMA_VIOLATION }),
  });
  const stopFollowing = new AbortController();
  const registryFollower = followTopic(sensorRegistry, log, Topics.sensorRegistry, {
    signal: stopFollowing.signal,
    onError: logUnavailable,
  });
  await registryFollower.ready;

  const actorState = await openActorStateStores(log, {
    applicationId: config.applicationId,
    partitions,
    onCorrupt: (kind) =>
      metrics.deadLetters.inc({ source: `changelog:${kind}`, code: ErrorCodes.DECODE_FAILED }),
  });

  const hosts: PartitionHosts =
    config.workers === 0
      ? inProcessHosts(setup)
      : await workerHosts({ setup, workers: config.workers, partitions });

  let dispatcher: Dispatcher | undefined;
  let membership: Membership | undefined;
  let assignment: readonly number[] = [];
  const router = new OutputRouter({
    log,
    encode: codec.encode,
    view,
    feeds,
    metrics,
    repartition: aggregates.topics,
    alerts: actors.alerts,
    onMark: (worker, batch) => dispatcher?.markDone(worker, batch),
    onEvent: (event) => {
      const e = event as { type?: string; decision?: string; strategy?: string };
      if (e.type === "supervision")
        metrics.restarts.inc({ decision: e.decision ?? "", strategy: e.strategy ?? "" });
      else if (e.type === "worker-restarted")
        metrics.restarts.inc({ decision: "restart-worker", strategy: "one_for_one" });
    },
    onError: failNode,
    now: Date.now,
    sensorRegistry,
    saveState: (kind, key, partition, state) => actorState.save(kind, key, partition, state),
    flushState: () => actorState.flush(),
  });
  hosts.onOutput((output) => {
    counters.outputs++;
    router.route(output);
  });
  dispatcher = new Dispatcher({
    log,
    hosts,
    groupId: config.applicationId,
    decode: codec.decode,
    state: actorState,
    onError: failNode,
    commitIntervalMs: config.commitIntervalMs,
    watermark: { maxOutOfOrdernessMs: setup.maxOutOfOrdernessMs, idleTimeoutMs: setup.idleTimeoutMs },
    onAssignment: (partitions) => {
      assignment = partitions;
      membership?.announce(partitions).catch(failNode);
    },
    onDeadLetter: (letter, topic) => router.deadLetter(letter, "log", Topics.deadLettersOf(topic)),
    onConsumed: (n) => metrics.messagesByTopic.inc({ topic: Topics.sensorsRaw, direction: "in" }, n),
    onTransientError: logUnavailable,
    now: Date.now,
  });
  hosts.onCrash((worker) => dispatcher?.workerLost(worker));
  hosts.onRestart((worker) => {
    dispatcher?.replayWorker(worker).catch(failNode);
  });
  dispatcher.start();
  await aggregates.engine.start();

  const edge = await startEdge({ config, log, codec, system: mainSystem, metrics, feeds, fleet, counters });
  const { mqttUrl, subscriber, publisher } = edge;
  const health = nodeHealth({
    fatal: () => fatal,
    mqtt: { received: () => subscriber.stats().received, reconnects: () => subscriber.stats().reconnects },
    expectMqttTraffic: config.simulate,
    // the simulator publishes `rate` readings a second: ten silent intervals, at least 10 s
    mqttMaxSilenceMs: Math.max(10_000, Math.ceil(10_000 / config.rate)),
    startedAt: Date.now(),
  });
  metrics.observe({
    feeds: () => feeds.stats(),
    readModel: () => ({ evictions: view.evictions(), sizes: view.sizes() }),
  });

  let lastDeadLetters = 0;
  const housekeeping = setInterval(() => {
    health.sample(Date.now());
    log
      .endOffset({ topic: Topics.sensorsRaw, partition: 0 })
      .then(() => health.logAnswered(), logUnavailable);
    if (membership) metrics.malformedMemberAnnouncements.set(membership.stats().malformedAnnouncements);
    const rate = (counters.rejected - lastDeadLetters) / 2;
    lastDeadLetters = counters.rejected;
    actors.alerts.tell({
      type: "sample",
      sample: { metric: "dead_letters_per_second", value: rate, labels: {}, at: Date.now() },
    });
    hosts
      .stats()
      .then((all) => {
        health.heartbeat();
        for (const [part, stats] of [
          ["main", mainSystem.stats()] as const,
          ...all.map((s, i) => [`worker-${i}`, s] as const),
        ])
          for (const [kind, byKind] of Object.entries(stats.byKind)) {
            metrics.mailboxDepth.set({ part, kind }, byKind.mailboxDepth);
            metrics.actors.set({ part, kind }, byKind.actors);
          }
      })
      .catch(failNode);
  }, 2000);

  const supervisionTree = { value: [] as unknown[] };
  const app = createApp({
    view,
    metrics,
    health: health.checks,
    supervisionTree: () => ({ main: mainSystem.tree(), workers: supervisionTree.value }),
    nodeInfo: () => ({
      applicationId: config.applicationId,
      workers: hosts.workers,
      modelVersion: model.version,
    }),
    mounts: [{ prefix: "/schema-registry", app: schemaRegistryRoutes(registry) }],
    ownership: {
      owners: () =>
        Array.from({ length: partitions }, (_, partition) => ({
          partition,
          owner: membership?.ownerOf(partition),
        })),
      ownerOfKey: (key) =>
        membership?.ownerOfKey(key) ?? {
          partition: partitionFor(key, partitions),
          owner: undefined,
          local: true,
        },
    },
  });
  const treeTimer = setInterval(() => {
    hosts
      .tree()
      .then((trees) => {
        supervisionTree.value = trees;
      })
      .catch(failNode);
  }, 2000);
  server.use(app);
  membership = await startMembership({
    log,
    applicationId: config.applicationId,
    apiUrl: server.url,
    partitions,
    onReadError: logUnavailable,
  });
  await membership.announce(assignment);

  let stopped = false;
  return {
    config,
    apiUrl: server.url,
    mqttUrl,
    log,
    view,
    feeds,
    metrics,
    fleet,
    publisher,
    modelVersion: model.version,
    killWorker: (worker) => hosts.killWorker(worker),
    progress: () => ({
      ...counters,
      consumed: dispatcher?.consumed ?? 0,
      actors: mainSystem.stats().actors,
      workers: hosts.workers,
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(housekeeping);
      clearInterval(treeTimer);
      await edge.stopSources();
      await mainSystem.drain(10_000).catch(failNode);
      await dispatcher?.stop();
      await hosts.stop();
      await router.flush().catch(failNode);
      await aggregates.engine.stop().catch(failNode);
      await mainSystem.stop();
      await membership?.stop().catch(failNode);
      await server.stop();
      await edge.stopBroker();
      stopFollowing.abort();
      await registryFollower.stop();
      await log.close();
    },
  };
}
