import { DuckDBInstance } from "@duckdb/node-api";
import type { FeatureStore } from "../../features/feature-store.ts";
import { SYMBOL_INDICATORS_1M } from "../../features/views/room-views.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import { snapshotSelect } from "../../lake/query/snapshot-view.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { LabelledTrainingSet, TrainingSetSource } from "../lifecycle/training-set-source.ts";
import { DIRECTION_FEATURES, directionFeatures } from "./direction-features.ts";

/**
 * The market model's training set from the feature store. The entity frame is read from the
 * indicators' gold table at one Delta version: one row per symbol and minute that has a next
 * minute, stamped with the minute's close (bar start + 1 min) and labelled with the next
 * minute's direction; the minute's own return comes from the minute before, when there is one.
 * The features are the point-in-time join of `symbol_indicators_1m` at the same table version
 * (available at the bar's end, so the join reads the minute that just closed and never the one
 * being predicted). Rows are in time order (the holdout is the newest part) and bounded to the
 * newest `maxRows`.
 */
export interface DirectionTrainingOptions {
  readonly maxRows?: number;
  readonly minRows?: number;
}

const MINUTE = 60_000;

export class DirectionTrainingSource implements TrainingSetSource {
  constructor(
    private readonly store: FeatureStore,
    private readonly options: DirectionTrainingOptions = {},
  ) {}

  /**
   * Rows the indicators' gold table holds now, from its files' statistics (no scan): an upper
   * bound of the labelled minutes (the longer timeframes are in it too), enough to tell whether
   * a first training is worth starting; `latest` counts exactly.
   */
  async rowsAvailable(): Promise<number> {
    const snapshot = await this.store.lake.snapshot(SYMBOL_INDICATORS_1M.source.table);
    let rows = 0;
    for (const file of snapshot?.files ?? []) rows += file.numRecords ?? 0;
    return rows;
  }

  async latest(_model: string): Promise<LabelledTrainingSet> {
    const viewName = SYMBOL_INDICATORS_1M.name;
    await this.store.registry.refresh();
    let view: ReturnType<FeatureStore["registry"]["view"]>;
    try {
      view = this.store.registry.view(viewName, "latest");
    } catch (error) {
      if (!isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) throw error;
      throw new PlatformError(ErrorCodes.TRAINING_DATA_INVALID, `${viewName} is not registered yet`, {
        cause: error,
      });
    }
    const table = view.definition.source.table;
    const snapshot = await this.store.lake.snapshot(table);
    if (!snapshot)
      throw new PlatformError(ErrorCodes.TRAINING_DATA_INVALID, `${table} has not been written yet`);
    const frame = await labelFrame(snapshot, this.options.maxRows ?? 50_000);
    const minRows = this.options.minRows ?? 200;
    if (frame.length < minRows)
      throw new PlatformError(
        ErrorCodes.TRAINING_DATA_INVALID,
        `${table}@${snapshot.version} has ${frame.length} labelled minutes; the market model needs ${minRows}`,
      );
    const joined = await this.store.trainingSet({
      views: [`${viewName}@${view.version}`],
      entities: { rows: frame },
      tableVersions: { [table]: snapshot.version },
    });
    const rows = (joined.rows ?? []).map((row) =>
      directionFeatures(
        {
          close: numberOr(row.close, Number(row.bar_close)),
          sma_20: nullable(row.sma_20),
          ema_12: nullable(row.ema_12),
          ema_26: nullable(row.ema_26),
          rsi_14: nullable(row.rsi_14),
          macd_histogram: nullable(row.macd_histogram),
          bollinger_upper: nullable(row.bollinger_upper),
          bollinger_middle: nullable(row.bollinger_middle),
          bollinger_lower: nullable(row.bollinger_lower),
          vwap: nullable(row.vwap),
        },
        nullable(row.previous_close) ?? undefined,
      ),
    );
    return {
      rows,
      labels: Float64Array.from(joined.rows ?? [], (row) => Number(row.up)),
      featureNames: DIRECTION_FEATURES,
      lineage: { table, tableVersion: snapshot.version, views: [{ name: viewName, version: view.version }] },
    };
  }
}

/**
 * symbol, event_timestamp (epoch ms of the minute's end), bar_close, previous_close, up; oldest
 * first. A minute written twice (a re-emitted bar) counts once; a minute whose next one is
 * missing (a gap, the newest minute) has no label and is left out.
 */
async function labelFrame(snapshot: DeltaSnapshot, maxRows: number): Promise<Record<string, unknown>[]> {
  const sql = `
    WITH minutes AS (
      SELECT symbol, epoch_ms(bar_start) AS start, any_value(close) AS close
      FROM (${snapshotSelect(snapshot)}) WHERE timeframe = '1m' GROUP BY symbol, bar_start
    ), neighbours AS (
      SELECT symbol, start, close,
        lag(start) OVER w AS previous_start, lag(close) OVER w AS previous_close,
        lead(start) OVER w AS next_start, lead(close) OVER w AS next_close
      FROM minutes WINDOW w AS (PARTITION BY symbol ORDER BY start)
    ), labelled AS (
      SELECT symbol, start + ${MINUTE} AS event_timestamp, close AS bar_close,
        CASE WHEN previous_start = start - ${MINUTE} THEN previous_close END AS previous_close,
        CASE WHEN next_close > close THEN 1 ELSE 0 END AS up
      FROM neighbours WHERE next_start = start + ${MINUTE}
      ORDER BY event_timestamp DESC, symbol LIMIT ${Math.max(1, Math.floor(maxRows))}
    )
    SELECT * FROM labelled ORDER BY event_timestamp, symbol`;
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return (reader.getRowObjectsJS() as Record<string, unknown>[]).map((row) => ({
      symbol: String(row.symbol),
      event_timestamp: Number(row.event_timestamp),
      bar_close: Number(row.bar_close),
      previous_close: row.previous_close === null ? null : Number(row.previous_close),
      up: Number(row.up),
    }));
  } catch (error) {
    throw new PlatformError(
      ErrorCodes.LAKE_QUERY_INVALID,
      `the market model's label frame could not be read: ${error instanceof Error ? error.message.split("\n")[0]!.slice(0, 300) : "unknown error"}`,
      { cause: error },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function nullable(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}
