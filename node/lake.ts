import { lakeRoutes } from "../api/lake/routes.ts";
import type { DeltaTable } from "../lake/delta/delta-table.ts";
import { LakeMaintenance } from "../lake/maintenance/lake-maintenance.ts";
import { PeriodicJob } from "../lake/maintenance/periodic-job.ts";
import { LakeQueryEngine } from "../lake/query/lake-query-engine.ts";
import { LAKE_TABLES } from "../lake/tables/catalogue.ts";
import { DistrictHourlyJob, type DistrictHourlyRun } from "../lake/tables/district-hourly-job.ts";
import { GOLD_VIEWS } from "../lake/tables/gold.ts";
import { openLakeTables } from "../lake/tables/open-lake-tables.ts";
import type { Log } from "../log/log.ts";
import type { RecordCodec } from "../messages/codec/record-codec.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { lakeTableSink } from "../sinks/lake-table-sink.ts";
import { SinkThread } from "../sinks/sink-thread/sink-thread.ts";
import type { TableSinkStats } from "../sinks/table-sink.ts";
import { lakeDirOf, type NodeConfig } from "./config.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The node's Delta lake (LAKE=off turns it off): one table sink per bronze, silver and gold
 * table fed from the log (each its own consumer group, exactly once through the tables' txn
 * actions), the gold job on its schedule, OPTIMIZE and VACUUM on theirs, and the query engine
 * behind /api/lake. A lake whose disk fails holds its sinks (they retry, their lag shows in
 * /metrics) and nothing else.
 *
 * With LAKE_SINKS=thread the sinks run on a thread of their own (`lake-sink-thread.ts`): the
 * rows, their checks and the DuckDB parquet writes were a tenth of the main thread at 20k
 * readings/s. Not the default: the thread's own decodes and log reads cost the process more than
 * they take off the main thread, and the 2-core machine has no core to spare for them. The thread opens its own log handle and its own writers of the same tables; the
 * gold job, maintenance and queries here read the other writer's commits as any Delta reader
 * does (a snapshot lists the log first), and commits of both race only as two writers of one
 * table may (optimistic concurrency, `lake/delta/conflicts.ts`).
 */
export interface NodeLake {
  readonly dir: string;
  readonly tables: ReadonlyMap<string, DeltaTable>;
  readonly routes: ReturnType<typeof lakeRoutes>;
  stats(): TableSinkStats[];
  /** terminates the sink thread abruptly, as a crash would (tests); no-op when the sinks run here */
  killSinkThread(): void;
  /** runs the gold jobs now (tests, and the command line) */
  runGoldJobs(): Promise<DistrictHourlyRun | undefined>;
  stop(): Promise<void>;
}

const LAG_REFRESH_MS = 2000;

export async function startLake(
  node: NodeContext,
  deadLetter: (letter: DeadLetter, topic: string) => void,
): Promise<NodeLake | undefined> {
  const { config, log, codec, metrics, failures } = node;
  if (config.lake === "off") return undefined;
  const dir = lakeDirOf(config);
  // opened (created when absent) here before a sink thread opens them too: one creator
  const tables = await openLakeTables(dir, { onBackgroundError: reportEvery5s("lake checkpoint") });
  const sinks =
    config.lakeSinks === "main"
      ? startLakeSinks({
          ...{ config, log, codec, tables, deadLetter },
          onError: failures.fail,
          onLagError: failures.logUnavailable,
        })
      : lakeSinkThread(node, deadLetter);
  metrics.observeSinks(sinks.stats);

  const districtHourly = new DistrictHourlyJob({
    applicationId: config.applicationId,
    silver: tables.get("silver_sensor_readings") as DeltaTable,
    gold: tables.get("gold_district_hourly") as DeltaTable,
  });
  const gold = new PeriodicJob({
    name: "gold district-hourly",
    everyMs: config.lakeGoldEveryMs,
    run: () => districtHourly.runOnce(),
    onError: reportEvery5s("gold job district-hourly"),
  });
  gold.start();

  const maintenance = new LakeMaintenance({
    tables,
    defaults: {
      optimizeEveryMs: config.lakeOptimizeEveryMs || undefined,
      vacuumEveryMs: config.lakeVacuumEveryMs || undefined,
    },
    overrides: config.lakeMaintenance,
    vacuumRetentionHours: config.lakeVacuumRetentionHours,
    onError: (error, task, table) => reportEvery5s(`lake ${task} of ${table}`)(error),
  });
  maintenance.start();

  const engine = await LakeQueryEngine.open({ lakeDir: dir, tables: () => tables, views: GOLD_VIEWS });
  const routes = lakeRoutes({
    catalogue: LAKE_TABLES,
    views: GOLD_VIEWS,
    tables,
    engine,
    maintenance,
    onInternalError: (error) =>
      console.error(`lake api: ${error instanceof Error ? error.message : String(error)}`),
  });

  return {
    dir,
    tables,
    routes,
    stats: sinks.stats,
    killSinkThread: sinks.kill,
    runGoldJobs: () => gold.runNow(),
    async stop() {
      const [sinksStopped, ...stopped] = await Promise.all([
        sinks.stop(),
        ...[gold.stop(), maintenance.stop()].map((stopping) =>
          stopping.then(
            () => [],
            (error: unknown) => [error],
          ),
        ),
      ]);
      for (const failure of [...sinksStopped, ...stopped.flat()]) failures.stopIncomplete(failure);
      await districtHourly.close().catch(failures.stopIncomplete);
      engine.close();
    },
  };
}

/** the lake's sinks on a thread of their own (`lake-sink-thread.ts`), supervised */
function lakeSinkThread(
  node: NodeContext,
  deadLetter: (letter: DeadLetter, topic: string) => void,
): LakeSinks {
  const thread = new SinkThread<NodeConfig>({
    name: "lake sinks",
    entry: new URL("./lake-sink-thread.ts", import.meta.url).href,
    setup: node.config,
    onDeadLetter: deadLetter,
    onError: node.failures.fail,
    onRestart: (error, restarts) => console.error(`${error.message}; restart ${restarts}`),
    stopDeadlineMs: node.config.stopTimeoutMs,
  }).start();
  return {
    stats: () => thread.stats(),
    kill: () => thread.kill(),
    async stop() {
      try {
        await thread.stop();
        return [];
      } catch (error) {
        return [error];
      }
    },
  };
}

export interface LakeSinks {
  stats(): TableSinkStats[];
  kill(): void;
  /** stops the sinks; resolves with what did not stop in time */
  stop(): Promise<unknown[]>;
}

export interface LakeSinksWiring {
  readonly config: NodeConfig;
  readonly log: Log;
  readonly codec: Pick<RecordCodec, "decode">;
  readonly tables: ReadonlyMap<string, DeltaTable>;
  readonly deadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onError: (error: unknown) => void;
  readonly onLagError: (error: unknown) => void;
}

/**
 * One table sink per bronze, silver and gold table fed from the log (each its own consumer
 * group, exactly once through the tables' txn actions), on whichever thread calls it, with their
 * lag refreshed for /metrics. A room's tables are fed while the room runs (its topics exist then).
 */
export function startLakeSinks(wiring: LakeSinksWiring): LakeSinks {
  const { config, log, codec, tables } = wiring;
  const fed = LAKE_TABLES.filter(
    (t) => t.topics.length > 0 && (t.room === undefined || config[t.room] === "on"),
  );
  const sinks = fed.map((table) => {
    const name = `lake-${table.name}`;
    const { sink } = lakeTableSink(table, tables.get(table.name) as DeltaTable, {
      ...{ log, applicationId: config.applicationId, decode: codec.decode },
      batchSize: config.lakeBatchSize,
      lingerMs: config.lakeLingerMs,
      onDeadLetter: wiring.deadLetter,
      onTransientError: reportEvery5s(name),
      onError: wiring.onError,
    });
    return sink.start();
  });
  const lagTimer = setInterval(() => {
    for (const sink of sinks) sink.refreshLag().catch(wiring.onLagError);
  }, LAG_REFRESH_MS);
  return {
    stats: () => sinks.map((s) => s.stats()),
    kill: () => {},
    async stop() {
      clearInterval(lagTimer);
      const stopped = await Promise.allSettled(sinks.map((s) => s.stop()));
      return stopped.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    },
  };
}

/** a lake that cannot write retries every batch: say so at most every 5 s per part */
export function reportEvery5s(part: string): (error: unknown) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    console.error(`${part}: retrying: ${error instanceof Error ? error.message : String(error)}`);
  };
}
