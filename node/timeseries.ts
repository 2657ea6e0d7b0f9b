import { openTimeSeriesStore } from "../lake/timeseries/index.ts";
import {
  marketBarRows,
  newsItemRows,
  platformTables,
  predictionRows,
  readingRows,
  TIME_SERIES_TABLES,
  type TimeSeriesTableName,
  windowRows,
} from "../lake/timeseries/platform-tables.ts";
import type {
  TableDefinition,
  TimeSeriesRow,
  TimeSeriesStore,
} from "../lake/timeseries/time-series-store.ts";
import type { Log } from "../log/log.ts";
import type { RecordCodec } from "../messages/codec/record-codec.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { TIMEFRAMES } from "../messages/market.ts";
import { Topics } from "../messages/topics.ts";
import type { SinkTarget } from "../sinks/sink-target.ts";
import { SinkThread } from "../sinks/sink-thread/sink-thread.ts";
import { TableSink, type TableSinkStats } from "../sinks/table-sink.ts";
import type { NodeConfig } from "./config.ts";
import { reportEvery5s } from "./failures.ts";
import type { NodeContext } from "./node-context.ts";
import { PROCESSED_TOPICS } from "./node-log.ts";

/**
 * The node's time-series history: which topic feeds which table, one table sink each, into
 * QuestDB when QUESTDB_URL is set and the embedded store otherwise. Started after the market and
 * news rooms, whose topics it reads when they run. A store that is down holds
 * its sinks (they retry, their lag shows in /metrics) and nothing else.
 *
 * The sinks run on a thread of their own by default (TIMESERIES_SINKS=thread,
 * `timeseries-sink-thread.ts`): they need nothing from the hot path but the log, and their
 * decode, row mapping and inserts were a tenth of the main thread at 20k readings/s. The thread
 * opens its own log handle and store writer; the main thread keeps a store for the API's
 * queries and erasures (SQLite in WAL mode: a reader sees each committed write of the other
 * connection; QuestDB: one server). TIMESERIES_SINKS=main runs them here, as before.
 */
export interface NodeTimeSeries {
  readonly store: TimeSeriesStore;
  readonly tables: readonly TableDefinition[];
  stats(): TableSinkStats[];
  /** terminates the sink thread abruptly, as a crash would (tests); no-op when the sinks run here */
  killSinkThread(): void;
  stop(): Promise<void>;
}

const LAG_REFRESH_MS = 2000;
/** how often the main thread tries again to learn the tables for its queries when the store was down */
const READER_ENSURE_RETRY_MS = 5000;

export function startTimeSeries(
  node: NodeContext,
  deadLetter: (letter: DeadLetter, topic: string) => void,
): NodeTimeSeries {
  const { config, log, codec, metrics } = node;
  const store = openStore(config);
  if (config.timeseriesSinks === "main") {
    const sinks = startTimeSeriesSinks({
      ...{ config, log, codec, store, deadLetter },
      onError: node.failures.fail,
      onLagError: node.failures.logUnavailable,
    });
    metrics.observeSinks(sinks.stats);
    return {
      store,
      tables: sinks.tables,
      stats: sinks.stats,
      killSinkThread: () => {},
      async stop() {
        for (const failure of await sinks.stop()) node.failures.stopIncomplete(failure);
        await store.close().catch(node.failures.stopIncomplete);
      },
    };
  }
  const tables = timeSeriesFeeds(config).map((feed) => feed.table);
  const readers = ensureForReads(store, tables);
  const thread = new SinkThread<NodeConfig>({
    name: "time-series sinks",
    entry: new URL("./timeseries-sink-thread.ts", import.meta.url).href,
    setup: config,
    onDeadLetter: deadLetter,
    onError: node.failures.fail,
    onRestart: (error, restarts) => console.error(`${error.message}; restart ${restarts}`),
    stopDeadlineMs: config.stopTimeoutMs,
  }).start();
  metrics.observeSinks(() => thread.stats());
  return {
    store,
    tables,
    stats: () => thread.stats(),
    killSinkThread: () => thread.kill(),
    async stop() {
      readers.stop();
      await thread.stop().catch(node.failures.stopIncomplete);
      await store.close().catch(node.failures.stopIncomplete);
    },
  };
}

function openStore(config: NodeConfig): TimeSeriesStore {
  return openTimeSeriesStore({
    dataDir: config.dataDir,
    ...(config.questdbUrl ? { questdbUrl: config.questdbUrl } : {}),
    ...(config.questdbPgUrl ? { questdbPgUrl: config.questdbPgUrl } : {}),
  });
}

/** which topics feed which table, by the rooms the node runs */
export function timeSeriesFeeds(config: NodeConfig) {
  const tables = platformTables(tableTtl(config));
  return [
    { name: "timeseries-readings", topics: [Topics.silver], table: tables.readings, toRows: readingRows },
    { name: "timeseries-windows", topics: PROCESSED_TOPICS, table: tables.windows, toRows: windowRows },
    {
      name: "timeseries-predictions",
      topics: [Topics.predictions],
      table: tables.predictions,
      toRows: predictionRows,
    },
    // the market and news rooms' outputs, when those rooms run (their topics exist then)
    ...(config.market === "on"
      ? [
          {
            name: "timeseries-market-bars",
            topics: TIMEFRAMES.map((tf) => Topics.marketBars(tf)),
            table: tables.marketBars,
            toRows: marketBarRows,
          },
        ]
      : []),
    ...(config.news === "on"
      ? [
          {
            name: "timeseries-news",
            topics: [Topics.newsInsights],
            table: tables.newsItems,
            toRows: newsItemRows,
          },
        ]
      : []),
  ];
}

export interface TimeSeriesSinksWiring {
  readonly config: NodeConfig;
  readonly log: Log;
  readonly codec: Pick<RecordCodec, "decode" | "refresh">;
  /** the store the sinks write (and own: `stop` does not close it) */
  readonly store: TimeSeriesStore;
  readonly deadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onError: (error: unknown) => void;
  readonly onLagError: (error: unknown) => void;
}

/** one table sink per feed, on whichever thread calls it, with their lag refreshed for /metrics */
export function startTimeSeriesSinks(wiring: TimeSeriesSinksWiring): {
  readonly tables: readonly TableDefinition[];
  stats(): TableSinkStats[];
  /** stops the sinks; resolves with what did not stop in time */
  stop(): Promise<unknown[]>;
} {
  const { config, log, codec, store } = wiring;
  const feeds = timeSeriesFeeds(config).map((feed) => ({ ...feed, target: tableTarget(store, feed.table) }));
  // created now if the store answers (so queries find them before the first row), else on the first write
  for (const { name, target } of feeds) target.ensure().catch(reportEvery5s(name));
  const sinks = feeds.map(({ name, topics, toRows, target }) =>
    new TableSink<TimeSeriesRow>({
      ...{ name, topics, toRows, log, applicationId: config.applicationId },
      decode: codec.decode,
      refreshSchemas: codec.refresh,
      target,
      batchSize: config.timeseriesBatchSize,
      lingerMs: config.timeseriesLingerMs,
      onDeadLetter: wiring.deadLetter,
      onTransientError: reportEvery5s(name),
      onError: wiring.onError,
    }).start(),
  );
  const lagTimer = setInterval(() => {
    for (const sink of sinks) sink.refreshLag().catch(wiring.onLagError);
  }, LAG_REFRESH_MS);
  return {
    tables: feeds.map((f) => f.table),
    stats: () => sinks.map((s) => s.stats()),
    async stop() {
      clearInterval(lagTimer);
      const stopped = await Promise.allSettled(sinks.map((s) => s.stop()));
      return stopped.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    },
  };
}

/**
 * The main thread's store learns the tables for its queries (the embedded store plans a query
 * against the tables it ensured); a store that is down at start is asked again until it answers.
 */
function ensureForReads(store: TimeSeriesStore, tables: readonly TableDefinition[]): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const report = reportEvery5s("time-series store");
  const attempt = () => {
    Promise.all(tables.map((table) => store.ensureTable(table))).catch((error: unknown) => {
      report(error);
      if (!stopped) timer = setTimeout(attempt, READER_ENSURE_RETRY_MS);
    });
  };
  attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * A table as a sink target. The table is created at start if the store answers, else on the
 * first write, so a node whose QuestDB is down starts anyway and its sinks wait for the store
 * as for any outage.
 */
function tableTarget(store: TimeSeriesStore, table: TableDefinition) {
  let ensured: Promise<void> | undefined;
  const ensure = () => {
    ensured ??= store.ensureTable(table).catch((error: unknown) => {
      ensured = undefined; // try again on the next write
      throw error;
    });
    return ensured;
  };
  const target: SinkTarget<TimeSeriesRow> & { ensure(): Promise<void> } = {
    ensure,
    async write(batch) {
      await ensure();
      await store.write(table, batch.rows);
    },
  };
  return target;
}

function tableTtl(config: NodeConfig): (table: TimeSeriesTableName) => number {
  const overrides = new Map<string, number>();
  for (const pair of (config.timeseriesTableTtlDays ?? "").split(",").filter(Boolean)) {
    const [table, days] = pair.split("=") as [string, string];
    if (!(TIME_SERIES_TABLES as readonly string[]).includes(table))
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `TIMESERIES_TABLE_TTL_DAYS names '${table}'; tables: ${TIME_SERIES_TABLES.join(", ")}`,
      );
    overrides.set(table, Number(days));
  }
  return (table) => overrides.get(table) ?? config.timeseriesTtlDays;
}
