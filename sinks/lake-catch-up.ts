import { LAKE_TABLES } from "../lake/tables/catalogue.ts";
import { openLakeTables } from "../lake/tables/open-lake-tables.ts";
import type { Log } from "../log/log.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { lakeTableSink } from "./lake-table-sink.ts";

/**
 * Brings lake tables up to the log's end as it is now, with the node's own lake sinks (the same
 * consumer group `<app>-sink-lake-<table>`, the same Delta `txn` per source partition), then
 * stops: a command such as `bun run backfill` lands what it appended in the lake without a node
 * running, and exactly once whether or not one runs beside it (a running node's sink shares the
 * group: the partitions are divided, and a txn already in the table is not written again). A
 * second run finds the group committed at the end and writes nothing.
 */
export interface LakeCatchUpOptions {
  readonly log: Log;
  readonly decode: (bytes: Uint8Array) => unknown;
  /**
   * the codec's registry catch-up (`RecordCodec.refresh`): a record framed with a schema another
   * registry registered after this command opened (a running node's) is read again after it,
   * as the node's own sinks do, before it is a dead letter
   */
  readonly refreshSchemas?: () => Promise<void>;
  readonly applicationId: string;
  readonly lakeDir: string;
  /** the catalogue's tables to bring up to date */
  readonly tables: readonly string[];
  readonly batchSize?: number;
  /** how long to wait for the sinks to reach the end; default 10 minutes */
  readonly timeoutMs?: number;
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  /** rows written so far, every poll */
  readonly onProgress?: (written: number, remaining: number) => void;
}

export interface LakeCatchUpResult {
  /** rows written per table (0: the table already held everything) */
  readonly written: Readonly<Record<string, number>>;
  /** rows of records the table held already, or repeats of rows it held */
  readonly skipped: number;
}

export async function catchUpLake(options: LakeCatchUpOptions): Promise<LakeCatchUpResult> {
  const tables = options.tables.map((name) => {
    const table = LAKE_TABLES.find((t) => t.name === name);
    if (!table?.toRows || table.topics.length === 0)
      throw new PlatformError(
        ErrorCodes.LAKE_TABLE_UNKNOWN,
        `no lake table fed from the log named '${name}'`,
      );
    return table;
  });
  const opened = await openLakeTables(options.lakeDir, {}, tables);
  const sinks = tables.map((table) => {
    const { sink, target } = lakeTableSink(table, opened.get(table.name)!, {
      ...{ log: options.log, applicationId: options.applicationId, decode: options.decode },
      refreshSchemas: options.refreshSchemas,
      // large batches: a back-fill spans years, and a commit writes a file per date partition it
      // touches, so a node's 5,000-record batches over ten years of daily bars would write files
      // of a row or two each
      batchSize: options.batchSize ?? 200_000,
      lingerMs: 50,
      onDeadLetter: options.onDeadLetter,
      onError: (error) => {
        failure ??= error;
      },
    });
    return { table, sink, target };
  });
  let failure: unknown;
  // the end each sink must reach: the log as it is now (what a running source appends later is
  // the running node's to write)
  const ends = new Map<string, Map<number, number>>();
  for (const { table } of sinks)
    for (const topic of table.topics) {
      const partitions = (await options.log.partitions(topic)) ?? 0;
      const end = new Map<number, number>();
      for (let p = 0; p < partitions; p++) end.set(p, await options.log.endOffset({ topic, partition: p }));
      ends.set(topic, end);
    }
  for (const { sink } of sinks) sink.start();
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  try {
    for (;;) {
      if (failure !== undefined)
        throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "a lake sink stopped", { cause: failure });
      let remaining = 0;
      for (const { table, sink } of sinks)
        for (const topic of table.topics) {
          const committed = await options.log.groupOffsets(sink.groupId, topic);
          for (const [partition, end] of ends.get(topic) ?? [])
            remaining += Math.max(0, end - (committed.get(partition) ?? 0));
        }
      options.onProgress?.(
        sinks.reduce((n, s) => n + s.target.stats().written, 0),
        remaining,
      );
      if (remaining === 0) break;
      if (Date.now() > deadline)
        throw new PlatformError(
          ErrorCodes.DRAIN_TIMEOUT,
          `the lake sinks did not reach the log's end in time (${remaining} records left)`,
        );
      await Bun.sleep(100);
    }
  } finally {
    await Promise.all(sinks.map((s) => s.sink.stop()));
  }
  const written: Record<string, number> = {};
  let skipped = 0;
  for (const { table, target } of sinks) {
    const stats = target.stats();
    written[table.name] = stats.written;
    skipped += stats.replayed + stats.repeats;
  }
  return { written, skipped };
}
