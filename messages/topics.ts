import type { SensorType } from "./sensor-reading.ts";

/** Every log topic the platform writes, in one place. */
export const Topics = {
  sensorsRaw: "city.sensors.raw",
  processed: (type: SensorType) => `city.processed.${type}` as const,
  /** readings that passed every quality check, enriched and deduplicated (the silver layer's feed) */
  silver: "city.sensors.silver",
  /** readings that failed a quality check, kept with their issues */
  quarantine: "city.sensors.quarantine",
  predictions: "ml.predictions",
  /** a model's forecast joined with its actual once the label arrived (the live error's record) */
  outcomes: "ml.outcomes",
  drift: "ml.drift",
  alerts: "ops.alerts",
  deadLetters: "platform.dead-letters",
  /** where a topic's undecodable records go, with the reason and the original bytes */
  deadLettersOf: (topic: string) => `${topic}.dlq` as const,
  /** where a windowed topic's late records go */
  lateOf: (topic: string) => `${topic}.late` as const,
  /** records re-keyed for an aggregate with one owner in the application (Kafka Streams' naming) */
  repartitionOf: (applicationId: string, name: string) => `${applicationId}-${name}-repartition` as const,
  /** a stateful actor kind's compacted changelog */
  changelogOf: (applicationId: string, kind: string) => `${applicationId}.${kind}.changelog` as const,
  /** news articles as a source delivered them, keyed by the place searched for */
  newsArticlesRaw: "news.articles.raw",
  /** what a reader (Gemini or the local one) made of each article, keyed by place */
  newsInsights: "news.insights",
  /** rolling news sentiment per place (a feature), keyed by place */
  newsSentiment: "news.sentiment",
  /** rolling news sentiment per listed company (a feature), keyed by symbol */
  newsSymbolSentiment: "news.symbol-sentiment",
  schemas: "_schemas",
  /** compacted: the feature store's registry (view versions, on-demand views, statistics) */
  featureViews: "_feature_views",
  /** compacted: API keys by id (hash, role, revocation), shared by every node of the log */
  apiKeys: "platform.api-keys",
  /** every state change made through the API: who, what, when, from where, result */
  audit: "platform.audit",
  /** compacted reference table: sensor_id -> district, zone, installation metadata */
  sensorRegistry: "ref.sensor-registry",
  /** compacted reference table: symbol -> name, exchange, sector, currency */
  symbolMetadata: "ref.symbol-metadata",
  /** market data as a source delivered it, keyed by symbol */
  marketTradesRaw: "market.trades.raw",
  marketQuotesRaw: "market.quotes.raw",
  marketBarsRaw: "market.bars.raw",
  /** bars built (live) or back-filled per timeframe: 1m, 5m, 15m, 1h, 1d */
  marketBars: (timeframe: string) => `market.bars.${timeframe}` as const,
  marketIndicators: "market.indicators",
  marketAnomalies: "market.anomalies",
} as const;

export const DEFAULT_PARTITIONS = 12;
