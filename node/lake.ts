import { lakeRoutes } from "../api/lake/routes.ts";
import type { DeltaTable } from "../lake/delta/delta-table.ts";
import { LakeMaintenance } from "../lake/maintenance/lake-maintenance.ts";
import { PeriodicJob } from "../lake/maintenance/periodic-job.ts";
import { LakeQueryEngine } from "../lake/query/lake-query-engine.ts";
import { LAKE_TABLES } from "../lake/tables/catalogue.ts";
import { DistrictHourlyJob, type DistrictHourlyRun } from "../lake/tables/district-hourly-job.ts";
import { GOLD_VIEWS } from "../lake/tables/gold.ts";
import { openLakeTables } from "../lake/tables/open-lake-tables.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { lakeTableSink } from "../sinks/lake-table-sink.ts";
import type { TableSinkStats } from "../sinks/table-sink.ts";
import { lakeDirOf } from "./config.ts";
import { reportEvery5s } from "./failures.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The node's Delta lake (LAKE=off turns it off): one table sink per bronze, silver and gold
 * table fed from the log (each its own consumer group, exactly once through the tables' txn
 * actions), the gold job on its schedule, OPTIMIZE and VACUUM on theirs, and the query engine
 * behind /api/lake. A lake whose disk fails holds its sinks (they retry, their lag shows in
 * /metrics) and nothing else.
 */
export interface NodeLake {
  readonly dir: string;
  readonly tables: ReadonlyMap<string, DeltaTable>;
  readonly routes: ReturnType<typeof lakeRoutes>;
  stats(): TableSinkStats[];
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
  const tables = await openLakeTables(dir, { onBackgroundError: reportEvery5s("lake checkpoint") });
  // a room's tables are fed while the room runs (its topics exist then)
  const fed = LAKE_TABLES.filter(
    (t) => t.topics.length > 0 && (t.room === undefined || config[t.room] === "on"),
  );
  const sinks = fed.map((table) => {
    const name = `lake-${table.name}`;
    const { sink } = lakeTableSink(table, tables.get(table.name) as DeltaTable, {
      ...{ log, applicationId: config.applicationId, decode: codec.decode, refreshSchemas: codec.refresh },
      batchSize: config.lakeBatchSize,
      lingerMs: config.lakeLingerMs,
      onDeadLetter: deadLetter,
      onTransientError: reportEvery5s(name),
      onError: failures.fail,
    });
    return sink.start();
  });
  metrics.observeSinks(() => sinks.map((s) => s.stats()));
  const lagTimer = setInterval(() => {
    for (const sink of sinks) sink.refreshLag().catch(failures.logUnavailable);
  }, LAG_REFRESH_MS);

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
    stats: () => sinks.map((s) => s.stats()),
    runGoldJobs: () => gold.runNow(),
    async stop() {
      clearInterval(lagTimer);
      const stopped = await Promise.allSettled([
        ...sinks.map((s) => s.stop()),
        gold.stop(),
        maintenance.stop(),
      ]);
      for (const result of stopped) if (result.status === "rejected") failures.stopIncomplete(result.reason);
      await districtHourly.close().catch(failures.stopIncomplete);
      engine.close();
    },
  };
}
