import type { DeltaTable } from "../lake/delta/delta-table.ts";
import { DeltaSinkTarget, type PositionedRow } from "../lake/tables/delta-sink-target.ts";
import type { LakeTable } from "../lake/tables/lake-table.ts";
import { TableSink, type TableSinkOptions } from "./table-sink.ts";

export type LakeTableSinkOptions = Pick<
  TableSinkOptions<PositionedRow>,
  | "log"
  | "applicationId"
  | "decode"
  | "refreshSchemas"
  | "batchSize"
  | "lingerMs"
  | "onDeadLetter"
  | "onTransientError"
  | "onError"
>;

/**
 * A lake table's sink from the log: its name, and so its consumer group, is
 * `<app>-sink-lake-<table>`, and each row carries its source position, which the target writes
 * as the table's txn per source partition. Every writer of a table is built here (the node's own
 * sinks, the catch-up of a command beside it), so they share the group and the txns, and a record
 * lands once whichever of them writes it. A table fed raw bytes (`decode: "raw"`) is given them.
 */
export function lakeTableSink(
  table: LakeTable,
  delta: DeltaTable,
  options: LakeTableSinkOptions,
): { readonly sink: TableSink<PositionedRow>; readonly target: DeltaSinkTarget } {
  const toRows = table.toRows;
  if (!toRows || table.topics.length === 0)
    throw new RangeError(`lake table ${table.name} is not fed from the log (no topics or no row mapping)`);
  const target = new DeltaSinkTarget({ applicationId: options.applicationId, table, delta });
  const sink = new TableSink<PositionedRow>({
    ...options,
    name: `lake-${table.name}`,
    topics: table.topics,
    decode: table.decode === "raw" ? (bytes) => bytes : options.decode,
    toRows: (value, record) =>
      toRows(value, record).map((values) => ({
        values,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      })),
    target,
  });
  return { sink, target };
}
