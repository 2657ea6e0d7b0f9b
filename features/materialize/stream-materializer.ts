import type { LakeTable } from "../../lake/tables/lake-table.ts";
import type { LogRecord } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { SinkBatch, SinkTarget } from "../../sinks/sink-target.ts";
import type { OnlineRow, OnlineStore } from "../online/online-store.ts";
import type { RegisteredView } from "../registry/registry-records.ts";
import { onlineRowOf } from "./online-rows.ts";

/**
 * Push materialization: the window results on a view's source topics update the online store as
 * their windows close, with no batch job between (Feast's push source, Tecton's stream feature
 * view). It is a table sink (`sinks/table-sink.ts`) whose target is the online store: one
 * consumer group, records mapped to rows by the gold table's own mapping (the one the lake sink
 * writes the offline store with), batches written, offsets committed only after the store
 * acknowledged them. A replay after a crash writes the same rows again, which the store's
 * last-writer-wins rule absorbs: exactly-once effect in the online store.
 */
export interface StreamBinding {
  readonly view: RegisteredView;
  /** the view's source table: its topics feed the view, its `toRows` maps a record to rows */
  readonly table: LakeTable;
}

export interface MaterializedRow {
  readonly binding: number;
  readonly row: OnlineRow;
}

export interface Materialized {
  readonly view: string;
  readonly version: number;
  readonly rows: number;
  /** the newest event time written in the batch */
  readonly newestEventTime: number;
}

export function streamBindingProblem(binding: StreamBinding): string | undefined {
  if (!binding.view.definition.source.stream) return `view ${binding.view.name} is not a stream view`;
  if (binding.table.topics.length === 0 || !binding.table.toRows)
    return `table ${binding.table.name} is built by a job, not fed by topics: ${binding.view.name} can only be batch-materialized`;
  return undefined;
}

export function streamTopics(bindings: readonly StreamBinding[]): string[] {
  return [...new Set(bindings.flatMap((b) => b.table.topics))];
}

/** the TableSink's `toRows`: a decoded record -> one row per stream view it updates */
export function streamRows(bindings: readonly StreamBinding[]) {
  for (const binding of bindings) {
    const problem = streamBindingProblem(binding);
    if (problem) throw new PlatformError(ErrorCodes.FEATURE_VIEW_INVALID, problem);
  }
  const byTopic = new Map<string, number[]>();
  for (const [i, binding] of bindings.entries())
    for (const topic of binding.table.topics) byTopic.set(topic, [...(byTopic.get(topic) ?? []), i]);
  return (value: unknown, record: LogRecord): MaterializedRow[] => {
    const out: MaterializedRow[] = [];
    const mapped = new Map<LakeTable, Record<string, unknown>[]>();
    for (const i of byTopic.get(record.topic) ?? []) {
      const { view, table } = bindings[i]!;
      let rows = mapped.get(table);
      if (!rows) {
        rows = table.toRows!(value, record);
        mapped.set(table, rows);
      }
      for (const tableRow of rows) {
        const row = onlineRowOf(view.definition, tableRow, record.timestamp);
        if (row) out.push({ binding: i, row });
      }
    }
    return out;
  };
}

/** the TableSink's target: each batch's rows written per view version, TTL passed on */
export function onlineStoreTarget(
  bindings: readonly StreamBinding[],
  store: OnlineStore,
  onWritten: (written: Materialized) => void = () => {},
): SinkTarget<MaterializedRow> {
  return {
    async write(batch: SinkBatch<MaterializedRow>) {
      const grouped = new Map<number, OnlineRow[]>();
      for (const { binding, row } of batch.rows) {
        const rows = grouped.get(binding);
        if (rows) rows.push(row);
        else grouped.set(binding, [row]);
      }
      for (const [i, rows] of grouped) {
        const { view } = bindings[i]!;
        await store.write({ name: view.name, version: view.version }, rows, { ttlMs: view.definition.ttlMs });
        let newest = 0;
        for (const row of rows) if (row.eventTime > newest) newest = row.eventTime;
        onWritten({ view: view.name, version: view.version, rows: rows.length, newestEventTime: newest });
      }
    },
  };
}
