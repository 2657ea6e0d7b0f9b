import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TableSpec } from "../../../lake/delta/delta-table.ts";

/** A silver-reading-shaped table partitioned by date and type, and rows for it. */
export const SILVER_SPEC: TableSpec = {
  name: "silver_readings",
  partitionColumns: ["date", "type"],
  schema: [
    { name: "sensor_id", type: "string", nullable: false },
    { name: "type", type: "string", nullable: false },
    { name: "event_time", type: "timestamp", nullable: false },
    { name: "date", type: "date", nullable: false },
    { name: "value", type: "double", nullable: true },
    { name: "quality_score", type: "double", nullable: false },
    { name: "partition", type: "integer", nullable: false },
    { name: "offset", type: "long", nullable: false },
  ],
};

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const TYPES = ["traffic", "environment", "utility"] as const;

/** `count` rows starting at offset `from`, spread over two days and three types, deterministic. */
export function silverRows(from: number, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => {
    const offset = from + k;
    const eventTime = START + (offset % 2) * DAY_MS + offset * 1000;
    return {
      sensor_id: `sensor-${offset % 17}`,
      type: TYPES[offset % 3],
      event_time: new Date(eventTime),
      date: new Date(eventTime).toISOString().slice(0, 10),
      value: offset % 11 === 0 ? null : offset / 4,
      quality_score: (offset % 10) / 10,
      partition: offset % 4,
      offset,
    };
  });
}

/** A fresh directory under the system's temp dir, removed by the returned cleanup. */
export async function tempTableDir(
  prefix = "delta-",
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  return { dir: join(root, "table"), cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Rows sorted by offset with timestamps as ms, for comparing two readers' outputs. */
export function byOffset(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows
    .map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.getTime() : v;
      return out;
    })
    .sort((a, b) => Number(a.offset) - Number(b.offset));
}
