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
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { TIMEFRAMES } from "../messages/market.ts";
import { Topics } from "../messages/topics.ts";
import type { SinkTarget } from "../sinks/sink-target.ts";
import { TableSink, type TableSinkStats } from "../sinks/table-sink.ts";
import type { NodeConfig } from "./config.ts";
import type { NodeContext } from "./node-context.ts";
import { PROCESSED_TOPICS } from "./node-log.ts";

/**
 * The node's time-series history: which topic feeds which table, one table sink each, into
 * QuestDB when QUESTDB_URL is set and the embedded store otherwise. Started after the market and
 * news rooms, whose topics it reads when they run. A store that is down holds
 * its sinks (they retry, their lag shows in /metrics) and nothing else.
 */
export interface NodeTimeSeries {
  readonly store: TimeSeriesStore;
  readonly tables: readonly TableDefinition[];
  stats(): TableSinkStats[];
  stop(): Promise<void>;
}

const LAG_REFRESH_MS = 2000;

export function startTimeSeries(
  node: NodeContext,
  deadLetter: (letter: DeadLetter, topic: string) => void,
): NodeTimeSeries {
  const { config, log, codec, metrics } = node;
  const store = openTimeSeriesStore({
    dataDir: config.dataDir,
    ...(config.questdbUrl ? { questdbUrl: config.questdbUrl } : {}),
    ...(config.questdbPgUrl ? { questdbPgUrl: config.questdbPgUrl } : {}),
  });
  const tables = platformTables(tableTtl(config));
  const feeds = [
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
  ].map((feed) => ({ ...feed, target: tableTarget(store, feed.table) }));
  // created now if the store answers (so queries find them before the first row), else on the first write
  for (const { name, target } of feeds) target.ensure().catch(reportEvery5s(name));
  const sinks = feeds.map(({ name, topics, toRows, target }) =>
    new TableSink<TimeSeriesRow>({
      ...{ name, topics, toRows, log, applicationId: config.applicationId },
      decode: codec.decode,
      target,
      batchSize: config.timeseriesBatchSize,
      lingerMs: config.timeseriesLingerMs,
      onDeadLetter: deadLetter,
      onTransientError: reportEvery5s(name),
      onError: node.failures.fail,
    }).start(),
  );
  metrics.observeSinks(() => sinks.map((s) => s.stats()));
  const lagTimer = setInterval(() => {
    for (const sink of sinks) sink.refreshLag().catch(node.failures.logUnavailable);
  }, LAG_REFRESH_MS);
  return {
    store,
    tables: feeds.map((f) => f.table),
    stats: () => sinks.map((s) => s.stats()),
    async stop() {
      clearInterval(lagTimer);
      const stopped = await Promise.allSettled(sinks.map((s) => s.stop()));
      for (const result of stopped)
        if (result.status === "rejected") node.failures.stopIncomplete(result.reason);
      await store.close().catch(node.failures.stopIncomplete);
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

/** a store outage retries every batch: say so at most every 5 s per sink */
function reportEvery5s(sink: string): (error: unknown) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    console.error(`${sink}: retrying: ${error instanceof Error ? error.message : String(error)}`);
  };
}
