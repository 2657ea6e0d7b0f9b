import { defineFeatureView, type FeatureViewDefinition } from "./feature-view.ts";

/**
 * The feature views of the optional rooms, registered while the room runs, pushed to the online
 * store as their records arrive and read offline from their gold tables:
 *
 * - `district_news_sentiment`: a district's rolling news sentiment (news desks, `news.sentiment`),
 *   at the moment it moved; with how many articles it rests on.
 * - `symbol_news_sentiment`: a listed company's rolling news sentiment (symbol news desks,
 *   `news.symbol-sentiment`), from every article a reader found to be about it.
 * - `symbol_indicators_1m`: a symbol's technical indicators when each minute bar closed (symbol
 *   actors, `market.indicators`). Stamped with the bar's start, known at its end: the offline
 *   join waits the minute (`availableAfterMs`), or it would read a bar before it closed.
 */
const OWNER = "city-platform";
const DAY_MS = 86_400_000;

export const DISTRICT_NEWS_SENTIMENT: FeatureViewDefinition = defineFeatureView({
  name: "district_news_sentiment",
  entity: "district",
  description:
    "a district's rolling news sentiment (-1..1, newest articles weigh most) and its article count",
  owner: OWNER,
  tags: { domain: "news", granularity: "article" },
  ttlMs: 7 * DAY_MS,
  source: {
    table: "gold_news_sentiment",
    entityColumn: "location",
    timestampColumn: "at",
    stream: true,
  },
  features: [
    { name: "sentiment", type: "double", description: "rolling sentiment of the district's news" },
    { name: "articles", type: "long", description: "articles the sentiment rests on" },
  ],
});

export const SYMBOL_NEWS_SENTIMENT: FeatureViewDefinition = defineFeatureView({
  name: "symbol_news_sentiment",
  entity: "symbol",
  description:
    "a listed company's rolling news sentiment (-1..1, newest articles weigh most) and its article count",
  owner: OWNER,
  tags: { domain: "news", granularity: "article" },
  ttlMs: 7 * DAY_MS,
  source: {
    table: "gold_symbol_news_sentiment",
    entityColumn: "symbol",
    timestampColumn: "at",
    stream: true,
  },
  features: [
    { name: "sentiment", type: "double", description: "rolling sentiment of the company's news" },
    { name: "articles", type: "long", description: "articles the sentiment rests on" },
  ],
});

const INDICATORS = [
  "close",
  "sma_20",
  "ema_12",
  "ema_26",
  "rsi_14",
  "macd",
  "macd_signal",
  "macd_histogram",
  "bollinger_upper",
  "bollinger_middle",
  "bollinger_lower",
  "vwap",
] as const;

export const SYMBOL_INDICATORS_1M: FeatureViewDefinition = defineFeatureView({
  name: "symbol_indicators_1m",
  entity: "symbol",
  description: "a symbol's technical indicators when each one-minute bar closed",
  owner: OWNER,
  tags: { domain: "market", granularity: "1m" },
  ttlMs: DAY_MS,
  source: {
    table: "gold_market_indicators",
    entityColumn: "symbol",
    timestampColumn: "bar_start",
    availableAfterMs: 60_000,
    where: { timeframe: "1m" },
    stream: true,
  },
  features: INDICATORS.map((name) => ({ name, type: "double" as const })),
});

/** the views of the rooms that run on this node */
export function roomFeatureViews(rooms: {
  readonly news: boolean;
  readonly market: boolean;
}): FeatureViewDefinition[] {
  return [
    ...(rooms.news ? [DISTRICT_NEWS_SENTIMENT, SYMBOL_NEWS_SENTIMENT] : []),
    ...(rooms.market ? [SYMBOL_INDICATORS_1M] : []),
  ];
}
