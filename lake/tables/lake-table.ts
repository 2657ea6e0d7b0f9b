import type { LogRecord } from "../../log/log.ts";
import type { DeltaField, DeltaPrimitiveType } from "../delta/schema.ts";

/**
 * One table of the lake as the catalogue describes it: its layer, the topics that feed it (none
 * for a table a gold job builds), its Delta schema and partitioning, and how a log record becomes
 * its rows.
 *
 * `rowId` names the column that identifies a row across repeats: a record the platform emitted
 * twice (an upstream node crashed after its output and before its commit) carries the same id,
 * and the sink writes it once (see `delta-sink-target.ts`).
 */
export type LakeLayer = "bronze" | "silver" | "gold";

export interface LakeTable {
  readonly name: string;
  readonly layer: LakeLayer;
  readonly description: string;
  /** the log topics the table's sink reads; empty for a table built by a gold job */
  readonly topics: readonly string[];
  readonly schema: readonly DeltaField[];
  readonly partitionColumns: readonly string[];
  /** the column that identifies a row across upstream repeats, if the records carry one */
  readonly rowId?: string;
  /**
   * the record's bytes -> the value `toRows` sees: the node's codec for decoded layers, the
   * bytes themselves for bronze (which keeps records as ingested, even ones no codec reads)
   */
  readonly decode?: "codec" | "raw";
  /** an optional room of the node that feeds the table: its sink runs only while the room does */
  readonly room?: "market" | "news";
  /** a record's value -> rows (throws a PlatformError for a value the table refuses) */
  readonly toRows?: (value: unknown, record: LogRecord) => Record<string, unknown>[];
}

export const column = (name: string, type: DeltaPrimitiveType, nullable = true): DeltaField => ({
  name,
  type,
  nullable,
  metadata: {},
});

/** the UTC day of an epoch-ms instant, as Delta's `date` partition value */
export function utcDate(ms: number): string {
  // a batch's rows fall on a day or two: the day's text is made again only when the day changes
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    // NaN and out-of-range times throw here (RangeError), as they did, and leave the cache as it was
    lastDayText = new Date(ms).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayText;
}

const DAY_MS = 86_400_000;
let lastDay = Number.NaN;
let lastDayText = "";
