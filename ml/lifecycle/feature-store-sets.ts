import { DuckDBInstance } from "@duckdb/node-api";
import type { FeatureStore } from "../../features/feature-store.ts";
import type { RegisteredView, ViewStatistics } from "../../features/registry/registry-records.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import { snapshotSelect } from "../../lake/query/snapshot-view.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import { labelledSet } from "./traffic-forecast-features.ts";
import type { FeatureReference, LabelledTrainingSet } from "./training-set-source.ts";

/**
 * What every feature-store training set needs beside its own label frame: the entity frame read
 * from a gold table at one Delta version, the views resolved to fixed versions (so the several
 * as-of joins of one set read one version each), and each joined view version's statistics, made
 * current for the table version the set was built from and stored in the registry: they are the
 * drift reference of the model trained on them.
 */
export const GOLD_WINDOWS = "gold_sensor_windows";

/** rows of `sql` (a SELECT over the snapshot bound as `source`) as plain objects, 64-bit integers as numbers */
export async function frameRows(
  snapshot: DeltaSnapshot,
  sql: (source: string) => string,
): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql(`(${snapshotSelect(snapshot)})`));
    return (reader.getRowObjectsJS() as Record<string, unknown>[]).map((row) => {
      for (const [key, value] of Object.entries(row)) if (typeof value === "bigint") row[key] = Number(value);
      return row;
    });
  } catch (error) {
    throw new PlatformError(
      ErrorCodes.LAKE_QUERY_INVALID,
      `the training frame could not be read: ${error instanceof Error ? error.message.split("\n")[0]!.slice(0, 300) : String(error)}`,
      { cause: error },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** the gold windows table's snapshot, or TRAINING_DATA_INVALID while the lake has none */
export async function goldWindows(store: FeatureStore): Promise<DeltaSnapshot> {
  const snapshot = await store.lake.snapshot(GOLD_WINDOWS);
  if (!snapshot)
    throw new PlatformError(
      ErrorCodes.TRAINING_DATA_INVALID,
      `${GOLD_WINDOWS} has not been written yet: no labelled rows in the offline store`,
    );
  return snapshot;
}

/** the newest version of each named view; a view the registry lacks is left out (its features join as missing) */
export async function resolveViews(store: FeatureStore, names: readonly string[]): Promise<RegisteredView[]> {
  await store.registry.refresh();
  const views: RegisteredView[] = [];
  for (const name of names) {
    try {
      views.push(store.registry.view(name, "latest"));
    } catch (error) {
      if (!isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) throw error;
    }
  }
  return views;
}

/** each view's source table pinned at its current version, for every join of one set */
export async function pinTables(
  store: FeatureStore,
  views: readonly RegisteredView[],
): Promise<Record<string, number>> {
  const pinned: Record<string, number> = {};
  for (const view of views) {
    const table = view.definition.source.table;
    const version = await store.lake.version(table);
    if (version !== undefined) pinned[table] = version;
  }
  return pinned;
}

/**
 * The statistics of each view version as of (at least) the pinned table version: the stored
 * ones when they are that recent, else computed now and stored in the registry.
 */
export async function currentStatistics(
  store: FeatureStore,
  views: readonly RegisteredView[],
  pinned: Readonly<Record<string, number>>,
): Promise<Map<string, ViewStatistics>> {
  const out = new Map<string, ViewStatistics>();
  for (const view of views) {
    const stored = store.registry.statistics(view.name, view.version);
    const tableVersion = pinned[view.definition.source.table];
    const stale = !stored || (tableVersion !== undefined && (stored.tableVersion ?? -1) < tableVersion);
    out.set(view.name, stale ? await store.computeStatistics(view.name, view.version) : stored);
  }
  return out;
}

/** model feature -> the statistics of the view feature it was read from */
export function featureReferences(
  sources: Readonly<Record<string, { view: string; feature: string }>>,
  views: readonly RegisteredView[],
  statistics: ReadonlyMap<string, ViewStatistics>,
): Record<string, FeatureReference> {
  const out: Record<string, FeatureReference> = {};
  for (const [modelFeature, source] of Object.entries(sources)) {
    const view = views.find((v) => v.name === source.view);
    const stats = statistics.get(source.view)?.features.find((f) => f.feature === source.feature);
    if (!view || !stats) continue;
    out[modelFeature] = {
      view: view.name,
      version: view.version,
      feature: source.feature,
      tableVersion: statistics.get(source.view)!.tableVersion,
      count: stats.count,
      mean: stats.mean,
      stddev: stats.stddev,
      min: typeof stats.min === "number" ? stats.min : null,
      max: typeof stats.max === "number" ? stats.max : null,
      quantiles: stats.quantiles,
    };
  }
  return out;
}

export function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === "bigint" ? Number(value) : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** a label frame too small to train on is TRAINING_DATA_INVALID, saying what it counted where */
export function requireFrameRows(rows: number, minRows: number, what: string, windows: DeltaSnapshot): void {
  if (rows < minRows)
    throw new PlatformError(
      ErrorCodes.TRAINING_DATA_INVALID,
      `only ${rows} ${what} in ${GOLD_WINDOWS}@${windows.version}: at least ${minRows} are needed`,
    );
}

/**
 * The end of every point-in-time set over the gold windows: the examples in time order with the
 * lineage the run records (the table's version and the view versions read) and each model
 * feature's reference statistics as of the pinned versions (its drift reference).
 */
export async function recordedSet(
  store: FeatureStore,
  examples: { at: number; row: Float64Array; label: number }[],
  spec: {
    readonly features: readonly string[];
    readonly sources: Readonly<Record<string, { view: string; feature: string }>>;
    readonly windows: DeltaSnapshot;
    readonly views: readonly RegisteredView[];
    readonly pinned: Readonly<Record<string, number>>;
    readonly minRows: number;
  },
): Promise<LabelledTrainingSet> {
  const statistics = await currentStatistics(store, spec.views, spec.pinned);
  return labelledSet(
    examples,
    spec.features,
    {
      table: GOLD_WINDOWS,
      tableVersion: spec.windows.version,
      views: spec.views.map((v) => ({ name: v.name, version: v.version })),
    },
    featureReferences(spec.sources, spec.views, statistics),
    spec.minRows,
  );
}
