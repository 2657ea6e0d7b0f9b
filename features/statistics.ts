import { DuckDBInstance } from "@duckdb/node-api";
import { quoteIdent } from "../lake/delta/schema.ts";
import type { DeltaSnapshot } from "../lake/delta/table-state.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import { latestPerInstant, viewSourceSelect } from "./offline/view-source.ts";
import {
  type FeatureStatistics,
  RECORD_VERSION,
  type RegisteredView,
  type ViewStatistics,
} from "./registry/registry-records.ts";

/**
 * Statistics of a view version over its source table at one Delta version: per feature the
 * count, nulls, mean, standard deviation, min, max, quantiles (5, 25, 50, 75, 95: exact, DuckDB's
 * quantile_cont) and distinct values. They are stored in the registry beside the
 * version (`stats/<view>/<version>`) and are the drift reference of a model trained on it: the
 * training set names the view versions it joined, and a drift monitor compares live values with
 * these distributions instead of with whatever the table holds later.
 */
const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95];

export async function computeStatistics(
  view: RegisteredView,
  snapshot: DeltaSnapshot | undefined,
  now = Date.now(),
): Promise<ViewStatistics> {
  const definition = view.definition;
  const source = latestPerInstant(definition, viewSourceSelect(definition, snapshot));
  const parts = ["count(*)::BIGINT AS __rows"];
  for (const [i, feature] of definition.features.entries()) {
    const c = quoteIdent(feature.name);
    const numeric = feature.type === "double" || feature.type === "long" || feature.type === "boolean";
    const n = `CAST(${c} AS DOUBLE)`;
    parts.push(`count(${c})::BIGINT AS count_${i}`, `count(DISTINCT ${c})::BIGINT AS distinct_${i}`);
    if (numeric)
      parts.push(
        `avg(${n}) AS mean_${i}`,
        `stddev_samp(${n}) AS std_${i}`,
        `min(${n}) AS min_${i}`,
        `max(${n}) AS max_${i}`,
        `quantile_cont(${n}, [${QUANTILES.join(", ")}]) AS q_${i}`,
      );
    else parts.push(`min(${c}) AS min_${i}`, `max(${c}) AS max_${i}`);
  }
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT ${parts.join(", ")} FROM (${source})`);
    const row = reader.getRowObjectsJS()[0] as Record<string, unknown>;
    const rows = Number(row.__rows);
    const features: FeatureStatistics[] = definition.features.map((feature, i) => {
      const count = Number(row[`count_${i}`]);
      const q = row[`q_${i}`] as { items?: unknown[] } | unknown[] | null | undefined;
      const items = Array.isArray(q) ? q : (q as { items?: unknown[] } | null)?.items;
      const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      return {
        feature: feature.name,
        type: feature.type,
        count,
        nulls: rows - count,
        mean: num(row[`mean_${i}`]),
        stddev: num(row[`std_${i}`]),
        min: scalar(row[`min_${i}`]),
        max: scalar(row[`max_${i}`]),
        quantiles:
          items && items.length === QUANTILES.length && items.every((v) => v !== null)
            ? {
                p05: Number(items[0]),
                p25: Number(items[1]),
                p50: Number(items[2]),
                p75: Number(items[3]),
                p95: Number(items[4]),
              }
            : null,
        distinct: num(row[`distinct_${i}`]),
      };
    });
    return {
      recordVersion: RECORD_VERSION,
      view: view.name,
      version: view.version,
      tableVersion: snapshot?.version ?? null,
      computedAt: now,
      rows,
      features,
    };
  } catch (error) {
    if (isPlatformError(error)) throw error;
    throw new PlatformError(
      ErrorCodes.LAKE_QUERY_INVALID,
      `statistics of ${view.name} failed: ${String(error).slice(0, 300)}`,
      {
        cause: error,
      },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function scalar(value: unknown): number | string | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  return String(value);
}
