import { existsSync } from "node:fs";
import { join } from "node:path";
import { DeltaTable } from "../lake/delta/delta-table.ts";
import { tableDir } from "../lake/tables/catalogue.ts";
import { GOLD_TABLES } from "../lake/tables/gold.ts";
import type { LogRecord } from "../log/log.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { TrafficWindowRow } from "../ml/lifecycle/traffic-forecast-features.ts";
import { SeededRandom } from "../ml/tree/random.ts";

/**
 * Closed traffic windows of a small city for training and retraining tests: each sensor has its
 * own base volume, a morning and an evening peak, weekends lighter, noise, and persistence (this
 * window resembles the last), so the next window is forecastable from the recent ones but not a
 * formula of them. `drift` changes the regime from a given time: volumes scale and the evening
 * peak moves, as after a road closure, so a model trained before it errs after it.
 */
export interface WindowHistoryOptions {
  readonly sensors: number;
  readonly windows: number;
  readonly windowMs?: number;
  readonly start?: number;
  readonly seed?: number;
  readonly drift?: { readonly from: number; readonly scale: number; readonly peakShiftHours: number };
}

export function trafficWindowHistory(options: WindowHistoryOptions): TrafficWindowRow[] {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const start = options.start ?? Date.UTC(2026, 0, 5);
  const random = new SeededRandom(options.seed ?? 1);
  const rows: TrafficWindowRow[] = [];
  for (let s = 0; s < options.sensors; s++) {
    const base = 20 + random.next() * 40;
    let previous = base;
    for (let w = 0; w < options.windows; w++) {
      const windowStart = start + w * windowMs;
      const drifted = options.drift !== undefined && windowStart >= options.drift.from;
      const demand = trafficDemand(windowStart, drifted ? options.drift!.peakShiftHours : 0);
      const target = base * demand * (drifted ? options.drift!.scale : 1);
      const value = Math.max(0, 0.6 * target + 0.4 * previous + random.nextGaussian() * base * 0.08);
      previous = value;
      rows.push({
        key: `traffic_${s}`,
        windowStart,
        windowMs,
        vehicleCountMean: value,
        vehicleCountMax: value * (1.2 + random.next() * 0.3),
        avgSpeedMean: Math.max(5, 60 - value * 0.4 + random.nextGaussian() * 3),
      });
    }
  }
  return rows;
}

function trafficDemand(at: number, peakShiftHours: number): number {
  const hour = (at % 86_400_000) / 3_600_000;
  const day = Math.floor(at / 86_400_000 + 4) % 7;
  const weekend = day === 0 || day === 6 ? 0.6 : 1;
  const peak = (center: number, width: number) => Math.exp(-(((hour - center) / width) ** 2));
  return weekend * (0.3 + 1.2 * peak(8, 1.5) + 1.0 * peak(17.5 + peakShiftHours, 2));
}

/** a closed traffic window as the window actors emit it (what the lake and the node's models see) */
export function trafficWindowResult(
  row: TrafficWindowRow,
  emittedAt = row.windowStart + row.windowMs,
): WindowResult {
  const readings = row.readingCount ?? 6;
  const aggregate = (mean: number, max: number) => ({
    count: readings,
    sum: mean * readings,
    mean,
    min: Math.max(0, 2 * mean - max),
    max,
  });
  return {
    scope: "sensor",
    key: row.key,
    type: "traffic",
    window_start: row.windowStart,
    window_end: row.windowStart + row.windowMs,
    count: readings,
    fields: {
      vehicle_count: aggregate(row.vehicleCountMean, row.vehicleCountMax),
      avg_speed: aggregate(row.avgSpeedMean, row.avgSpeedMean),
    },
    final: true,
    emitted_at: emittedAt,
  };
}

/**
 * Writes windows into the lake's `gold_sensor_windows` (created on first use) with the table's
 * own row mapping, one Delta commit per call, as the node's lake sink does: the offline store a
 * feature-store training set reads.
 */
export async function writeGoldWindows(lakeDir: string, windows: readonly WindowResult[]): Promise<number> {
  const definition = GOLD_TABLES.find((t) => t.name === "gold_sensor_windows")!;
  const dir = tableDir(lakeDir, definition);
  const table = existsSync(join(dir, "_delta_log"))
    ? await DeltaTable.open(dir)
    : await DeltaTable.create(dir, {
        name: definition.name,
        schema: [...definition.schema],
        partitionColumns: [...definition.partitionColumns],
      });
  const rows = windows.flatMap((w) => definition.toRows!(w, {} as LogRecord));
  const result = await table.append(rows);
  return result.version;
}
