/**
 * Batch scoring of a Delta table into a predictions table:
 *   bun run bin/score.ts -- --lake <dir> [--model traffic-forecast] [--version N | --alias champion]
 *                           [--source gold_sensor_windows] [--into gold_batch_predictions] [--data-dir DIR]
 * Reads the traffic windows of the source table's current snapshot, forecasts each sensor's next
 * window with the version (from the registry in DATA_DIR/models, or MLflow with MLFLOW_URL), and
 * appends the predictions to the target Delta table with the transaction marker
 * (`batch-score:<model>:<version>`, source version): running it again on the same snapshot
 * writes nothing.
 */
import { join } from "node:path";
import { DeltaTable } from "../lake/delta/delta-table.ts";
import type { DeltaField } from "../lake/delta/schema.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import { scoreWindows } from "../ml/lifecycle/batch-scoring.ts";
import { loadModelVersion } from "../ml/lifecycle/model-artifacts.ts";
import type { TrafficWindowRow } from "../ml/lifecycle/traffic-forecast-features.ts";
import { EmbeddedModelRegistry } from "../ml/registry/embedded/embedded-model-registry.ts";
import { MlflowModelRegistry } from "../ml/registry/mlflow/mlflow-model-registry.ts";
import { CHAMPION, type ModelRegistry } from "../ml/registry/model-registry.ts";
import { EmbeddedTrackingStore } from "../ml/tracking/embedded/embedded-tracking-store.ts";
import { MlflowTrackingStore } from "../ml/tracking/mlflow/mlflow-tracking-store.ts";
import type { TrackingStore } from "../ml/tracking/tracking-store.ts";

export interface ScoreOptions {
  readonly lakeDir: string;
  readonly tracking: TrackingStore;
  readonly registry: ModelRegistry;
  readonly model: string;
  readonly version?: string;
  readonly alias?: string;
  readonly source?: string;
  readonly into?: string;
}

const column = (name: string, type: DeltaField["type"], nullable = false): DeltaField => ({
  name,
  type,
  nullable,
});
const PREDICTIONS_SCHEMA: DeltaField[] = [
  column("prediction_id", "string"),
  column("model", "string"),
  column("model_version", "string"),
  column("key", "string"),
  column("window_start", "timestamp"),
  column("window_end", "timestamp"),
  column("value", "double"),
  column("features", "string"),
  column("source_table", "string"),
  column("source_version", "long"),
  column("scored_at", "timestamp"),
];

export async function scoreTable(
  options: ScoreOptions,
): Promise<{ rows: number; version: number; skipped: boolean; modelVersion: string }> {
  const sourceName = options.source ?? "gold_sensor_windows";
  const source = await DeltaTable.open(join(options.lakeDir, sourceName));
  const snapshot = await source.snapshot();
  const version =
    options.version ??
    (await options.registry.versionByAlias(options.model, options.alias ?? CHAMPION))?.version;
  if (version === undefined) {
    throw new PlatformError(
      ErrorCodes.MODEL_NOT_FOUND,
      `${options.model} has no ${options.alias ?? CHAMPION}; pass --version`,
    );
  }
  const model = await loadModelVersion(options.tracking, options.registry, options.model, version);
  const windows: TrafficWindowRow[] = [];
  for (const row of await source.readRows({ version: snapshot.version })) {
    if (row.scope !== "sensor" || row.type !== "traffic") continue;
    const start = millis(row.window_start);
    const end = millis(row.window_end);
    const mean = Number(row.vehicle_count_mean);
    const speed = Number(row.avg_speed_mean);
    if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(mean) || !Number.isFinite(speed))
      continue;
    windows.push({
      key: String(row.key),
      windowStart: start,
      windowMs: end - start,
      vehicleCountMean: mean,
      vehicleCountMax: Number(row.vehicle_count_max ?? mean),
      avgSpeedMean: speed,
    });
  }
  const scoredAt = Date.now();
  const rows = scoreWindows(windows, model).map((p) => ({
    ...p,
    source_table: sourceName,
    source_version: snapshot.version,
    scored_at: scoredAt,
  }));
  const target = await DeltaTable.create(join(options.lakeDir, options.into ?? "gold_batch_predictions"), {
    name: options.into ?? "gold_batch_predictions",
    schema: PREDICTIONS_SCHEMA,
    description: "batch forecasts of a registered model version over a snapshot of a windows table",
  });
  const result = await target.append(rows, {
    txn: { appId: `batch-score:${options.model}:${version}`, version: snapshot.version },
  });
  return {
    rows: result.skipped ? 0 : rows.length,
    version: result.version,
    skipped: result.skipped,
    modelVersion: version,
  };
}

function millis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "bigint") return Number(value / 1000n);
  if (typeof value === "number") return value;
  if (typeof value === "string") return Date.parse(value);
  return Number.NaN;
}

if (import.meta.main) {
  const args = process.argv.slice(2).filter((arg) => arg !== "--");
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const lakeDir = flag("lake");
  if (!lakeDir) {
    console.error(
      "usage: bun run bin/score.ts -- --lake <dir> [--model m] [--version N | --alias a] [--source t] [--into t] [--data-dir d]",
    );
    process.exit(2);
  }
  const mlflowUrl = process.env.MLFLOW_URL;
  const modelsDir = join(flag("data-dir") ?? process.env.DATA_DIR ?? "data", "models");
  const tracking = mlflowUrl
    ? new MlflowTrackingStore({ url: mlflowUrl })
    : EmbeddedTrackingStore.open({ dir: modelsDir });
  const registry = mlflowUrl
    ? new MlflowModelRegistry({ url: mlflowUrl })
    : EmbeddedModelRegistry.open({ dir: modelsDir });
  try {
    const result = await scoreTable({
      lakeDir,
      tracking,
      registry,
      model: flag("model") ?? "traffic-forecast",
      ...(flag("version") ? { version: flag("version")! } : {}),
      ...(flag("alias") ? { alias: flag("alias")! } : {}),
      ...(flag("source") ? { source: flag("source")! } : {}),
      ...(flag("into") ? { into: flag("into")! } : {}),
    });
    console.log(
      result.skipped
        ? `already scored: this snapshot was written by version ${result.modelVersion} before (table version ${result.version})`
        : `${result.rows} predictions by version ${result.modelVersion} written (table version ${result.version})`,
    );
  } catch (error) {
    console.error(isPlatformError(error) ? error.message : `scoring failed: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    await tracking.close();
    await registry.close();
  }
}
