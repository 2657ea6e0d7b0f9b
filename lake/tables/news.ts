import type { LogRecord } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { LocationSentiment, NewsArticle, NewsInsight, SymbolSentiment } from "../../messages/news.ts";
import { Topics } from "../../messages/topics.ts";
import { column, type LakeTable, utcDate } from "./lake-table.ts";

/**
 * The news room's tables: articles as the sources gave them (bronze, one row per article and
 * place: the same story found again is a repeat), what the readers made of them (gold insights,
 * entities, districts and company symbols as JSON text), and each place's and each listed
 * company's rolling sentiment as it moved (gold, the features' history).
 */
function refused(what: string, issue: { path: PropertyKey[]; message: string } | undefined): never {
  throw new PlatformError(
    ErrorCodes.SCHEMA_VIOLATION,
    `not ${what}: ${issue?.path.map(String).join(".")} ${issue?.message}`,
  );
}

function articleRows(value: unknown, record: LogRecord): Record<string, unknown>[] {
  const parsed = NewsArticle.safeParse(value);
  if (!parsed.success) return refused("a news article", parsed.error.issues[0]);
  const a = parsed.data;
  return [
    {
      article_key: `${a.id}/${a.location}`,
      id: a.id,
      url: a.url,
      title: a.title,
      description: a.description,
      content: a.content,
      source: a.source,
      author: a.author,
      published_at: Date.parse(a.published_at),
      location: a.location,
      symbol: a.symbol ?? null,
      provider: a.provider,
      fetched_at: a.fetched_at,
      date: utcDate(record.timestamp),
    },
  ];
}

function insightRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = NewsInsight.safeParse(value);
  if (!parsed.success) return refused("a news insight", parsed.error.issues[0]);
  const i = parsed.data;
  const published = Date.parse(i.published_at);
  return [
    {
      insight_key: `${i.article_id}/${i.location}`,
      article_id: i.article_id,
      url: i.url,
      title: i.title,
      location: i.location,
      published_at: published,
      summary: i.summary,
      sentiment_score: i.sentiment.score,
      sentiment_label: i.sentiment.label,
      entities: JSON.stringify(i.entities),
      locations: JSON.stringify(i.locations),
      symbols: JSON.stringify(i.symbols ?? []),
      reader: i.reader,
      model: i.model,
      follow_up_queries: JSON.stringify(i.follow_up_queries),
      tokens: i.tokens,
      fallback_reason: i.fallback_reason,
      created_at: i.created_at,
      date: utcDate(published),
    },
  ];
}

function sentimentRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = LocationSentiment.safeParse(value);
  if (!parsed.success) return refused("a place's sentiment", parsed.error.issues[0]);
  const s = parsed.data;
  return [
    {
      sentiment_key: `${s.location}/${s.articles}`,
      location: s.location,
      articles: s.articles,
      sentiment: s.sentiment,
      last_article_at: Date.parse(s.last_article_at),
      at: s.at,
      date: utcDate(s.at),
    },
  ];
}

function symbolSentimentRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = SymbolSentiment.safeParse(value);
  if (!parsed.success) return refused("a company's sentiment", parsed.error.issues[0]);
  const s = parsed.data;
  return [
    {
      sentiment_key: `${s.symbol}/${s.articles}`,
      symbol: s.symbol,
      articles: s.articles,
      sentiment: s.sentiment,
      last_article_at: Date.parse(s.last_article_at),
      at: s.at,
      date: utcDate(s.at),
    },
  ];
}

export const NEWS_TABLES: readonly LakeTable[] = [
  {
    name: "bronze_news_articles",
    layer: "bronze",
    room: "news",
    description: "news articles as the sources delivered them, one row per article and place",
    topics: [Topics.newsArticlesRaw],
    schema: [
      column("article_key", "string", false),
      column("id", "string", false),
      column("url", "string", false),
      column("title", "string", false),
      column("description", "string"),
      column("content", "string"),
      column("source", "string", false),
      column("author", "string"),
      column("published_at", "timestamp", false),
      column("location", "string", false),
      column("provider", "string", false),
      column("fetched_at", "timestamp", false),
      column("date", "date", false),
      // added later (schema evolution: null in older rows): the company searched for
      column("symbol", "string"),
    ],
    partitionColumns: ["date"],
    rowId: "article_key",
    toRows: articleRows,
  },
  {
    name: "gold_news_insights",
    layer: "gold",
    room: "news",
    description:
      "what a reader (Gemini or the local one) made of each article: summary, sentiment, entities, districts",
    topics: [Topics.newsInsights],
    schema: [
      column("insight_key", "string", false),
      column("article_id", "string", false),
      column("url", "string", false),
      column("title", "string", false),
      column("location", "string", false),
      column("published_at", "timestamp", false),
      column("summary", "string", false),
      column("sentiment_score", "double", false),
      column("sentiment_label", "string", false),
      column("entities", "string", false),
      column("locations", "string", false),
      column("reader", "string", false),
      column("model", "string"),
      column("follow_up_queries", "string", false),
      column("tokens", "long", false),
      column("fallback_reason", "string"),
      column("created_at", "timestamp", false),
      column("date", "date", false),
      // added later (schema evolution: null in older rows): the companies, as a JSON array
      column("symbols", "string"),
    ],
    partitionColumns: ["date"],
    rowId: "insight_key",
    toRows: insightRows,
  },
  {
    name: "gold_news_sentiment",
    layer: "gold",
    room: "news",
    description: "each place's rolling news sentiment after every article (the feature's history)",
    topics: [Topics.newsSentiment],
    schema: [
      column("sentiment_key", "string", false),
      column("location", "string", false),
      column("articles", "long", false),
      column("sentiment", "double", false),
      column("last_article_at", "timestamp", false),
      column("at", "timestamp", false),
      column("date", "date", false),
    ],
    partitionColumns: ["date"],
    rowId: "sentiment_key",
    toRows: sentimentRows,
  },
  {
    name: "gold_symbol_news_sentiment",
    layer: "gold",
    room: "news",
    description:
      "each listed company's rolling news sentiment after every article about it (the feature's history)",
    topics: [Topics.newsSymbolSentiment],
    schema: [
      column("sentiment_key", "string", false),
      column("symbol", "string", false),
      column("articles", "long", false),
      column("sentiment", "double", false),
      column("last_article_at", "timestamp", false),
      column("at", "timestamp", false),
      column("date", "date", false),
    ],
    partitionColumns: ["date"],
    rowId: "sentiment_key",
    toRows: symbolSentimentRows,
  },
];
