import { Gauge } from "prom-client";
import { featureRoutes } from "../api/features/routes.ts";
import { FeatureStore } from "../features/feature-store.ts";
import type { MaterializeResult } from "../features/materialize/batch-materializer.ts";
import {
  type MaterializedRow,
  onlineStoreTarget,
  streamRows,
  streamTopics,
} from "../features/materialize/stream-materializer.ts";
import { EmbeddedOnlineStore } from "../features/online/embedded-online-store.ts";
import { openOnlineStore } from "../features/online/index.ts";
import { IOT_FEATURE_VIEWS, IOT_ON_DEMAND_VIEWS } from "../features/views/iot-views.ts";
import { roomFeatureViews } from "../features/views/room-views.ts";
import { PeriodicJob } from "../lake/maintenance/periodic-job.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { TableSink, type TableSinkStats } from "../sinks/table-sink.ts";
import { lakeDirOf } from "./config.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The node's feature store (FEATURES=off turns it off): the registry on `_feature_views` with the
 * city's views registered at start, the online store (Redis when REDIS_URL, else embedded), the
 * offline store over the node's lake folder, and the streaming materializer: a table sink from
 * the window topics into the online store, so a window's features are served as it closes; the
 * views with no stream (the district hours a gold job builds) are materialized incrementally
 * from their tables every FEATURES_MATERIALIZE_EVERY_MS. Freshness per view is
 * `platform_feature_freshness_seconds` in /metrics.
 */
export interface NodeFeatures {
  readonly store: FeatureStore;
  readonly routes: ReturnType<typeof featureRoutes>;
  stats(): TableSinkStats;
  stop(): Promise<void>;
}

const LAG_REFRESH_MS = 2000;
const PRUNE_EVERY_MS = 60_000;

export async function startFeatures(
  node: NodeContext,
  deadLetter: (letter: DeadLetter, topic: string) => void,
): Promise<NodeFeatures | undefined> {
  const { config, log, codec, metrics, failures } = node;
  if (config.features === "off") return undefined;
  const online = await openOnlineStore({
    dataDir: config.dataDir,
    redisUrl: config.redisUrl,
    prefix: `fs:${config.applicationId}`,
  });
  const store = await FeatureStore.open({
    log,
    lakeDir: lakeDirOf(config),
    online,
    onDemand: IOT_ON_DEMAND_VIEWS,
  });
  const code = [
    ...IOT_FEATURE_VIEWS,
    ...roomFeatureViews({ news: config.news === "on", market: config.market === "on" }),
  ];
  const views = await store.registerCode(code, (view, error) =>
    console.error(`feature view ${view} is not served by this node: ${error.message}`),
  );
  const bindings = store.streamBindings(views);
  const sink = new TableSink<MaterializedRow>({
    ...{ name: "features-online", log, applicationId: config.applicationId, topics: streamTopics(bindings) },
    decode: codec.decode,
    refreshSchemas: codec.refresh,
    toRows: streamRows(bindings),
    target: onlineStoreTarget(bindings, online, (w) =>
      store.observeWritten(w.view, w.version, w.newestEventTime),
    ),
    batchSize: 1000,
    // freshness is the point of push materialization: a closed window waits at most this long
    lingerMs: config.featuresLingerMs,
    onDeadLetter: deadLetter,
    onTransientError: failures.retrying,
    onError: failures.fail,
  }).start();
  metrics.observeSinks(() => [sink.stats()]);
  new Gauge({
    name: "platform_feature_freshness_seconds",
    help: "age of the newest event time this node wrote to the online store, per feature view version",
    labelNames: ["view", "version"],
    registers: [metrics.registry],
    collect() {
      const now = Date.now();
      for (const f of store.freshness())
        this.set({ view: f.view, version: String(f.version) }, Math.max(0, (now - f.newestEventTime) / 1000));
    },
  });
  const lagTimer = setInterval(() => {
    sink.refreshLag().catch(failures.logUnavailable);
    // other nodes' registrations, so serving never waits for the topic
    store.registry.refresh().catch(failures.logUnavailable);
  }, LAG_REFRESH_MS);
  // batch views follow their tables: new Delta versions since the last run, written online
  const batchViews = views.filter((v) => !v.definition.source.stream);
  const batch = new PeriodicJob<MaterializeResult[]>({
    name: "features-materialize",
    everyMs: config.featuresMaterializeEveryMs,
    run: async () => {
      const results: MaterializeResult[] = [];
      for (const view of batchViews)
        results.push(await store.materializeIncremental(view.name, view.version));
      return results;
    },
    onResult: (results) => {
      for (const result of results)
        if (result.rows > 0) store.observeWritten(result.view, result.version, result.newestEventTime ?? 0);
    },
    onError: failures.logUnavailable,
  });
  batch.start();
  // the embedded store drops rows past their TTL on a timer (Redis expires them itself)
  const pruneTimer = setInterval(() => {
    if (online instanceof EmbeddedOnlineStore) online.prune();
  }, PRUNE_EVERY_MS);
  return {
    store,
    routes: featureRoutes(store),
    stats: () => sink.stats(),
    async stop() {
      clearInterval(lagTimer);
      clearInterval(pruneTimer);
      await batch.stop();
      await sink.stop().catch(failures.stopIncomplete);
      await store.close().catch(failures.stopIncomplete);
    },
  };
}
