/**
 * The time-series sinks' thread (a Bun worker started by `timeseries.ts`): the node's
 * configuration comes in, and the thread opens what its sinks need on its own: the log (its own
 * connection to the embedded log's file, or its own Kafka client), the schema registry read from
 * it and the node's codec, and the store's writer. Reports go back through
 * `sinks/sink-thread/serve-sink-thread.ts`.
 */
import { openTimeSeriesStore } from "../lake/timeseries/index.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { serveSinkThread } from "../sinks/sink-thread/serve-sink-thread.ts";
import type { NodeConfig } from "./config.ts";
import { reportEvery5s } from "./failures.ts";
import { nodeCodec, openLogBackend } from "./node-log.ts";
import { startTimeSeriesSinks } from "./timeseries.ts";

serveSinkThread<NodeConfig>(async (config, report) => {
  const { log } = await openLogBackend(config, "sink-thread");
  try {
    // the main thread registered the platform's subjects before it started this thread: found
    // here; what is registered later (the API, another node) is read when a record needs it
    const registry = await SchemaRegistry.open(log);
    const { codec } = await nodeCodec(registry);
    const store = openTimeSeriesStore({
      dataDir: config.dataDir,
      ...(config.questdbUrl ? { questdbUrl: config.questdbUrl } : {}),
      ...(config.questdbPgUrl ? { questdbPgUrl: config.questdbPgUrl } : {}),
    });
    const sinks = startTimeSeriesSinks({
      ...{ config, log, codec, store },
      deadLetter: report.deadLetter,
      onError: report.fail,
      onLagError: reportEvery5s("time-series sinks' lag"),
    });
    return {
      stats: sinks.stats,
      async stop() {
        const failures = await sinks.stop();
        await registry.close();
        for (const closing of await Promise.allSettled([store.close(), log.close()]))
          if (closing.status === "rejected") failures.push(closing.reason);
        return failures;
      },
    };
  } catch (error) {
    await log.close().catch(() => undefined);
    throw error;
  }
});
