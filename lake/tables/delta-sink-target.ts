import { BoundedSet } from "../../messages/bounded-map.ts";
import type { SinkBatch, SinkTarget } from "../../sinks/sink-target.ts";
import type { DeltaTable } from "../delta/delta-table.ts";
import type { LakeTable } from "./lake-table.ts";

/**
 * A Delta table as a table sink's target, written exactly once from the log.
 *
 * Each commit carries one `txn` action per source topic-partition of its batch (app id
 * `<app>/<table>/<topic>/<partition>`, version = the last offset of that partition it holds),
 * all in the same commit as the rows. After a crash the sink reads again from its committed
 * offsets, and the batches it builds need not match the ones it wrote before: one txn per
 * partition tells, record by record, what the table already holds (offset <= version), so the
 * replay writes exactly the part that is missing. One app id for the whole sink with the max
 * offset could not: the partitions of a batch move independently.
 *
 * Rows whose id (`LakeTable.rowId`) the table received recently are dropped too: those are
 * repeats an upstream node emitted after a crash, at new log offsets but with the same identity
 * Upstream repeats arrive shortly after their originals, within one replay of its input, so a
 * bounded window of recent ids catches them, as Flink's deduplication with a state TTL does:
 * memory stays bounded at the price of letting through a repeat older than the window (a
 * `BoundedSet`, oldest forgotten first, a repeat keeps its original's place). The window is
 * seeded from the table's newest files when the target opens, so a restart keeps deduplicating.
 */
export interface PositionedRow {
  readonly values: Record<string, unknown>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface DeltaSinkTargetOptions {
  readonly applicationId: string;
  readonly table: LakeTable;
  readonly delta: DeltaTable;
  /** how many recent row ids are remembered (default 200,000) */
  readonly recentRowIds?: number;
}

export interface DeltaSinkWriteResult {
  readonly written: number;
  /** rows of records the table already held (a replay after a crash) */
  readonly replayed: number;
  /** rows whose id the table already had (upstream repeats) */
  readonly repeats: number;
}

export class DeltaSinkTarget implements SinkTarget<PositionedRow> {
  private recent: BoundedSet<string> | undefined;
  private seeded: Promise<void> | undefined;
  private totals = { written: 0, replayed: 0, repeats: 0 };

  constructor(private readonly options: DeltaSinkTargetOptions) {}

  txnAppId(topic: string, partition: number): string {
    return `${this.options.applicationId}/${this.options.table.name}/${topic}/${partition}`;
  }

  stats(): DeltaSinkWriteResult {
    return { ...this.totals };
  }

  async write(batch: SinkBatch<PositionedRow>): Promise<void> {
    await this.writeBatch(batch);
  }

  async writeBatch(batch: SinkBatch<PositionedRow>): Promise<DeltaSinkWriteResult> {
    const { delta, table } = this.options;
    if (table.rowId) await this.seedRecentIds();
    const appIds = batch.offsets.map((range) => this.txnAppId(range.topic, range.partition));
    const held = await delta.txnVersions(appIds);
    // each source partition's version, looked up per row by topic and partition (not by app id
    // text, which would be built per row)
    const versions = new Map<string, number[]>();
    for (const range of batch.offsets) {
      const ofTopic = versions.get(range.topic) ?? [];
      versions.set(range.topic, ofTopic);
      ofTopic[range.partition] =
        held.get(this.txnAppId(range.topic, range.partition)) ?? Number.NEGATIVE_INFINITY;
    }
    const heldOf = (topic: string, partition: number) =>
      versions.get(topic)?.[partition] ?? Number.NEGATIVE_INFINITY;
    const txns = batch.offsets
      .filter((range) => range.lastOffset > heldOf(range.topic, range.partition))
      .map((range) => ({ appId: this.txnAppId(range.topic, range.partition), version: range.lastOffset }));
    let replayed = 0;
    let repeats = 0;
    const rows: Record<string, unknown>[] = [];
    const ids: string[] = [];
    const inBatch = new Set<string>();
    for (const row of batch.rows) {
      if (row.offset <= heldOf(row.topic, row.partition)) {
        replayed++;
        continue;
      }
      if (table.rowId) {
        const id = String(row.values[table.rowId]);
        if (this.recent?.has(id) || inBatch.has(id)) {
          repeats++;
          continue;
        }
        inBatch.add(id);
        ids.push(id);
      }
      rows.push(row.values);
    }
    // a batch of repeats and replays alone changes nothing in the table; its offsets are
    // committed to the log by the sink, and a later replay of it is filtered again the same way
    if (rows.length > 0) {
      await delta.append(rows, { txns, commitInfo: { engineInfo: `lake sink ${table.name}` } });
      for (const id of ids) this.recent?.add(id);
    }
    const result = { written: rows.length, replayed, repeats };
    this.totals.written += result.written;
    this.totals.replayed += replayed;
    this.totals.repeats += repeats;
    return result;
  }

  /** reads the ids of the newest rows once, so repeats right after a restart are caught too */
  private seedRecentIds(): Promise<void> {
    this.seeded ??= this.readRecentIds().then(
      (recent) => {
        this.recent = recent;
      },
      (error: unknown) => {
        // tried again by the next write (which fails meanwhile, so the sink retries it)
        this.seeded = undefined;
        throw error;
      },
    );
    return this.seeded;
  }

  private async readRecentIds(): Promise<BoundedSet<string>> {
    const { delta, table } = this.options;
    const recent = new BoundedSet<string>(this.options.recentRowIds ?? 200_000);
    const idColumn = table.schema.find((f) => f.name === table.rowId);
    if (!idColumn) throw new RangeError(`${table.name}: rowId ${table.rowId} is not a column`);
    const snapshot = await delta.snapshot();
    const newestFirst = [...snapshot.files].sort((a, b) => b.modificationTime - a.modificationTime);
    const chosen = [];
    let rows = 0;
    for (const file of newestFirst) {
      if (rows >= recent.capacity) break;
      chosen.push({ path: file.path, partitionValues: {} });
      rows += file.numRecords ?? recent.capacity;
    }
    if (chosen.length === 0) return recent;
    // oldest first, so the window forgets the oldest of them first
    const read = await delta.parquetPort.readFiles([idColumn], chosen.reverse());
    for (const row of read) recent.add(String(row[idColumn.name]));
    return recent;
  }
}
