import { z } from "zod";
import { FeatureViewDefinition } from "../views/feature-view.ts";
import { OnDemandViewDescription } from "../views/on-demand-view.ts";

/**
 * The records of the `_feature_views` topic (compacted, one partition), JSON values:
 *
 *   key `view/<name>/<version>/<fingerprint>`       value RegisteredView
 *   key `on-demand/<name>/<version>/<fingerprint>`  value RegisteredOnDemandView
 *   key `stats/<name>/<version>`                    value ViewStatistics (the latest computed)
 *
 * The fingerprint is in the key on purpose: two nodes registering two different definitions at
 * the same moment both append version N; the first record in the log's order holds it and the
 * other registration retries as N+1. Were both under one key, compaction would keep the last one
 * and swap the winner after the fact.
 */
export const RECORD_VERSION = 1;

export const Lineage = z.object({
  /** the source table and its Delta version when the view was registered (undefined: not written yet) */
  table: z.string(),
  tableVersion: z.number().int().nullable(),
});
export type Lineage = z.infer<typeof Lineage>;

export const RegisteredView = z.object({
  recordVersion: z.literal(RECORD_VERSION),
  kind: z.literal("view"),
  name: z.string(),
  version: z.number().int().positive(),
  fingerprint: z.string(),
  registeredAt: z.number(),
  definition: FeatureViewDefinition,
  lineage: Lineage,
});
export type RegisteredView = z.infer<typeof RegisteredView>;

export const RegisteredOnDemandView = z.object({
  recordVersion: z.literal(RECORD_VERSION),
  kind: z.literal("on_demand"),
  name: z.string(),
  version: z.number().int().positive(),
  fingerprint: z.string(),
  registeredAt: z.number(),
  definition: OnDemandViewDescription,
});
export type RegisteredOnDemandView = z.infer<typeof RegisteredOnDemandView>;

const Quantiles = z.object({
  p05: z.number(),
  p25: z.number(),
  p50: z.number(),
  p75: z.number(),
  p95: z.number(),
});

export const FeatureStatistics = z.object({
  feature: z.string(),
  type: z.string(),
  count: z.number().int(),
  nulls: z.number().int(),
  mean: z.number().nullable(),
  stddev: z.number().nullable(),
  min: z.union([z.number(), z.string(), z.boolean()]).nullable(),
  max: z.union([z.number(), z.string(), z.boolean()]).nullable(),
  quantiles: Quantiles.nullable(),
  distinct: z.number().int().nullable(),
});
export type FeatureStatistics = z.infer<typeof FeatureStatistics>;

export const ViewStatistics = z.object({
  recordVersion: z.literal(RECORD_VERSION),
  view: z.string(),
  version: z.number().int().positive(),
  /** the source table's version the statistics were computed over */
  tableVersion: z.number().int().nullable(),
  computedAt: z.number(),
  rows: z.number().int(),
  features: z.array(FeatureStatistics),
});
export type ViewStatistics = z.infer<typeof ViewStatistics>;

/** canonical JSON (sorted keys) -> SHA-256: equal definitions have equal fingerprints */
export function fingerprintOf(value: unknown): string {
  return new Bun.CryptoHasher("sha256").update(canonicalJson(value)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
