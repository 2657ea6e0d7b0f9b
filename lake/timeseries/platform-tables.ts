import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { MarketBar } from "../../messages/market.ts";
import { NewsInsight } from "../../messages/news.ts";
import { Prediction } from "../../messages/prediction.ts";
import { ProcessedReading } from "../../messages/processed-reading.ts";
import { isProcessedReading } from "../../messages/processed-reading-check.ts";
import { MEASUREMENTS, type Measurement } from "../../messages/sensor-reading.ts";
import { WindowResult } from "../../messages/window-result.ts";
import type { ColumnDefinition, TableDefinition, TimeSeriesRow } from "./time-series-store.ts";

/**
 * The platform's time-series tables and how a log record becomes their rows. Each row's
 * identity is the identity its record already carries, so a record replayed after a crash
 * lands on the same row:
 * - `sensor_readings` (from city.sensors.silver): one row per sensor and event time;
 * - `sensor_windows` (final windows from city.processed.<type>): scope, key and window start;
 * - `predictions` (from ml.predictions): the prediction id (model, key, window start) at the
 *   window's start; not the scoring time, which a replay would change. The original design's
 *   schema (section 7.1): id, model name and version, features, value, the model's confidence
 *   where it has one, the timestamp, and the actual value once it is known (null until then).
 * - `market_bars` (from market.bars.<timeframe>): symbol, timeframe and bar start;
 * - `news_items` (from news.insights): the article id and the place it was read for, at its
 *   publication time.
 */
export const TIME_SERIES_TABLES = [
  "sensor_readings",
  "sensor_windows",
  "predictions",
  "market_bars",
  "news_items",
] as const;
export type TimeSeriesTableName = (typeof TIME_SERIES_TABLES)[number];

const ALL_MEASUREMENTS: readonly Measurement[] = [...new Set(Object.values(MEASUREMENTS).flat())];
const double = (name: string): ColumnDefinition => ({ name, type: "double" });
const symbol = (name: string): ColumnDefinition => ({ name, type: "symbol" });

export function platformTables(ttlDays: (table: TimeSeriesTableName) => number | undefined) {
  const ttl = (name: TimeSeriesTableName) => {
    const days = ttlDays(name);
    return days === undefined ? {} : { ttlDays: days };
  };
  const readings: TableDefinition = {
    name: "sensor_readings",
    timestamp: "ts",
    columns: [
      ...["sensor_id", "type", "district", "zone"].map(symbol),
      ...ALL_MEASUREMENTS.map(double),
      double("quality_score"),
      double("anomaly_score"),
      { name: "passed", type: "boolean" },
      { name: "raw_partition", type: "long" },
      { name: "raw_offset", type: "long" },
    ],
    dedupKeys: ["sensor_id"],
    ...ttl("sensor_readings"),
  };
  const windows: TableDefinition = {
    name: "sensor_windows",
    timestamp: "ts",
    columns: [
      ...["scope", "key", "type"].map(symbol),
      { name: "window_end", type: "timestamp" },
      { name: "count", type: "long" },
      ...ALL_MEASUREMENTS.flatMap((m) => [double(`${m}_mean`), double(`${m}_min`), double(`${m}_max`)]),
    ],
    dedupKeys: ["scope", "key"],
    ...ttl("sensor_windows"),
  };
  const predictions: TableDefinition = {
    name: "predictions",
    timestamp: "ts",
    columns: [
      { name: "prediction_id", type: "varchar" },
      ...["model", "model_version", "key"].map(symbol),
      { name: "window_end", type: "timestamp" },
      { name: "features", type: "varchar" },
      double("value"),
      double("confidence"),
      double("actual"),
      double("latency_ms"),
      { name: "predicted_at", type: "timestamp" },
    ],
    dedupKeys: ["prediction_id"],
    ...ttl("predictions"),
  };
  const marketBars: TableDefinition = {
    name: "market_bars",
    timestamp: "ts",
    columns: [
      ...["symbol", "timeframe", "source"].map(symbol),
      ...["open", "high", "low", "close", "volume", "vwap"].map(double),
      { name: "trade_count", type: "long" },
    ],
    dedupKeys: ["symbol", "timeframe"],
    ...ttl("market_bars"),
  };
  const newsItems: TableDefinition = {
    name: "news_items",
    timestamp: "ts",
    columns: [
      { name: "article_id", type: "varchar" },
      ...["location", "reader", "sentiment_label"].map(symbol),
      double("sentiment_score"),
      ...["title", "url", "summary", "model"].map((name): ColumnDefinition => ({ name, type: "varchar" })),
      { name: "tokens", type: "long" },
      { name: "read_at", type: "timestamp" },
    ],
    dedupKeys: ["article_id", "location"],
    ...ttl("news_items"),
  };
  return { readings, windows, predictions, marketBars, newsItems } as const;
}

function parsed<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown } },
  value: unknown,
  what: string,
): T {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `not a ${what}`, { cause: result.error });
  return result.data;
}

export function readingRows(value: unknown): TimeSeriesRow[] {
  // the sensor actors' readings pass the schema's fast path; zod judges anything else
  const reading = isProcessedReading(value) ? value : parsed(ProcessedReading, value, "processed reading");
  const row: Record<string, number | string | boolean | null> = {};
  // only the known measurements: a value named like another column must not overwrite it
  for (const m of ALL_MEASUREMENTS) if (reading.values[m] !== undefined) row[m] = reading.values[m];
  return [
    {
      ...row,
      ts: reading.event_time,
      sensor_id: reading.sensor_id,
      type: reading.type,
      district: reading.enrichment?.district ?? null,
      zone: reading.enrichment?.zone ?? null,
      quality_score: reading.quality_score,
      anomaly_score: reading.anomaly_score,
      passed: reading.passed,
      raw_partition: reading.partition,
      raw_offset: reading.offset,
    },
  ];
}

/** final windows only: an open window's updates are for the live feed, not the history */
export function windowRows(value: unknown): TimeSeriesRow[] {
  const window = parsed(WindowResult, value, "window result");
  if (!window.final) return [];
  const row: Record<string, number | string | null> = {
    ts: window.window_start,
    scope: window.scope,
    key: window.key,
    type: window.type,
    window_end: window.window_end,
    count: window.count,
  };
  for (const field of ALL_MEASUREMENTS) {
    const agg = window.fields[field];
    if (!agg) continue;
    row[`${field}_mean`] = agg.mean;
    row[`${field}_min`] = agg.min;
    row[`${field}_max`] = agg.max;
  }
  return [row];
}

export function predictionRows(value: unknown): TimeSeriesRow[] {
  const prediction = parsed(Prediction, value, "prediction");
  const confidence = (prediction as { confidence?: unknown }).confidence;
  return [
    {
      ts: prediction.window_start,
      prediction_id: prediction.prediction_id,
      model: prediction.model,
      model_version: prediction.model_version,
      key: prediction.key,
      window_end: prediction.window_end,
      features: JSON.stringify(prediction.features),
      value: prediction.value,
      confidence: typeof confidence === "number" ? confidence : null,
      actual: null,
      latency_ms: prediction.latency_ms,
      predicted_at: Math.round(prediction.at),
    },
  ];
}

export function marketBarRows(value: unknown): TimeSeriesRow[] {
  const bar = parsed(MarketBar, value, "market bar");
  return [
    {
      ts: bar.start,
      symbol: bar.symbol,
      timeframe: bar.timeframe,
      source: bar.source,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      vwap: bar.vwap ?? null,
      trade_count: bar.trade_count ?? null,
    },
  ];
}

export function newsItemRows(value: unknown): TimeSeriesRow[] {
  const insight = parsed(NewsInsight, value, "news insight");
  return [
    {
      ts: Date.parse(insight.published_at),
      article_id: insight.article_id,
      location: insight.location,
      reader: insight.reader,
      sentiment_label: insight.sentiment.label,
      sentiment_score: insight.sentiment.score,
      title: insight.title,
      url: insight.url,
      summary: insight.summary,
      model: insight.model,
      tokens: insight.tokens,
      read_at: insight.created_at,
    },
  ];
}
