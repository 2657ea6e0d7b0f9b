/**
 * The lake's sinks' thread (a Bun worker started by `lake.ts`): the node's configuration comes
 * in, and the thread opens what its sinks need on its own: the log (its own connection to the
 * embedded log's file, or its own Kafka client), the schema registry read from it and the node's
 * codec, and its own writers of the lake's tables (the main thread opened, and so created, them
 * first). Reports go back through `sinks/sink-thread/serve-sink-thread.ts`.
 */
import { openLakeTables } from "../lake/tables/open-lake-tables.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { serveSinkThread } from "../sinks/sink-thread/serve-sink-thread.ts";
import { lakeDirOf, type NodeConfig } from "./config.ts";
import { reportEvery5s, startLakeSinks } from "./lake.ts";
import { nodeCodec, openLogBackend } from "./node-log.ts";

serveSinkThread<NodeConfig>(async (config, report) => {
  const { log } = await openLogBackend(config, "sink-thread");
  try {
    // the main thread registered the platform's subjects before it started this thread: found here
    const { codec } = await nodeCodec(await SchemaRegistry.open(log));
    const tables = await openLakeTables(lakeDirOf(config), {
      onBackgroundError: reportEvery5s("lake checkpoint"),
    });
    const sinks = startLakeSinks({
      ...{ config, log, codec, tables },
      deadLetter: report.deadLetter,
      onError: report.fail,
      onLagError: reportEvery5s("lake sinks' lag"),
    });
    return {
      stats: sinks.stats,
      async stop() {
        const failures = await sinks.stop();
        await log.close().catch((error: unknown) => failures.push(error));
        return failures;
      },
    };
  } catch (error) {
    await log.close().catch(() => undefined);
    throw error;
  }
});
