import { z } from "zod";
import { SYMBOL_PATTERN } from "./market.ts";

/**
 * News records (original design, section 2.3): an article as a news source gave it, and what a
 * reader (Gemini, or the deterministic local reader) made of it. The article's id is a hash of
 * its normalised URL, so the same story found by two sources, two pages or two polls is one
 * article everywhere downstream (de-duplication by URL).
 */
export const NEWS_PROVIDERS = ["newsapi", "gdelt", "replay"] as const;
export type NewsProvider = (typeof NEWS_PROVIDERS)[number];

/** the longest text kept per field: news bodies are summaries, not archives */
export const MAX_ARTICLE_TEXT = 20_000;

const text = (max: number) => z.string().max(max);

export const NewsArticle = z.object({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  url: z.url().max(2_048),
  title: text(1_000).min(1),
  description: text(MAX_ARTICLE_TEXT).nullable(),
  content: text(MAX_ARTICLE_TEXT).nullable(),
  source: text(200),
  author: text(500).nullable(),
  published_at: z.iso.datetime({ offset: true }),
  /**
   * what this article was searched for: a place (a district or the city) or, with `symbol`, a
   * listed company by its name; the news desk of that name reads it
   */
  location: text(200).min(1),
  /** the listed company this article was searched for, when it was searched by company */
  symbol: z.string().regex(SYMBOL_PATTERN).optional(),
  provider: z.enum(NEWS_PROVIDERS),
  fetched_at: z.number().int().nonnegative(),
});
export type NewsArticle = z.infer<typeof NewsArticle>;

export const SENTIMENT_LABELS = ["negative", "neutral", "positive"] as const;
export const ENTITY_TYPES = ["person", "organization", "location", "event", "other"] as const;

/**
 * What a reader extracts from an article. Gemini returns this shape as structured output
 * (validated here before use); the local reader returns the same shape, so nothing downstream
 * knows which reader answered except by `reader`.
 */
export const ArticleReading = z.object({
  summary: text(2_000).min(1),
  sentiment: z.object({
    /** -1 (very negative) .. 1 (very positive) */
    score: z.number().min(-1).max(1),
    label: z.enum(SENTIMENT_LABELS),
  }),
  entities: z.array(z.object({ name: text(200).min(1), type: z.enum(ENTITY_TYPES) })).max(50),
  /** districts of the city the article is about (names from the gazetteer) */
  locations: z.array(text(200)).max(20),
  /**
   * listed companies the article is about, by symbol (from the company directory: a reader
   * cannot invent one); optional only so records written before it still read
   */
  symbols: z.array(z.string().regex(SYMBOL_PATTERN)).max(20).optional(),
});
export type ArticleReading = z.infer<typeof ArticleReading>;

export const NewsInsight = ArticleReading.extend({
  article_id: NewsArticle.shape.id,
  url: NewsArticle.shape.url,
  title: NewsArticle.shape.title,
  location: NewsArticle.shape.location,
  published_at: NewsArticle.shape.published_at,
  reader: z.enum(["gemini", "local"]),
  model: text(100).nullable(),
  /** searches the model asked for to fill gaps (agentic search), in order */
  follow_up_queries: z.array(text(500)).max(20),
  tokens: z.number().int().nonnegative(),
  /** why the local reader answered instead of Gemini, when it did */
  fallback_reason: text(500).nullable(),
  created_at: z.number().int().nonnegative(),
});
export type NewsInsight = z.infer<typeof NewsInsight>;

/** the rolling news sentiment of a place: a feature for the feature store and the dashboards */
export const LocationSentiment = z.object({
  location: text(200).min(1),
  articles: z.number().int().nonnegative(),
  /** exponentially weighted mean of article sentiment, newest articles weigh most */
  sentiment: z.number().min(-1).max(1),
  last_article_at: z.iso.datetime({ offset: true }),
  at: z.number().int().nonnegative(),
});
export type LocationSentiment = z.infer<typeof LocationSentiment>;

/**
 * The rolling news sentiment of a listed company (a feature): every article a reader found to be
 * about the symbol, whether it was searched by place or by company, weighs in once.
 */
export const SymbolSentiment = z.object({
  symbol: z.string().regex(SYMBOL_PATTERN),
  articles: z.number().int().nonnegative(),
  /** exponentially weighted mean of article sentiment, newest articles weigh most */
  sentiment: z.number().min(-1).max(1),
  last_article_at: z.iso.datetime({ offset: true }),
  at: z.number().int().nonnegative(),
});
export type SymbolSentiment = z.infer<typeof SymbolSentiment>;

/** one article's sentiment about one symbol: the re-keyed record the symbol's news desk reads */
export const SymbolMention = z.object({
  symbol: z.string().regex(SYMBOL_PATTERN),
  article_id: NewsArticle.shape.id,
  title: NewsArticle.shape.title,
  published_at: NewsArticle.shape.published_at,
  score: z.number().min(-1).max(1),
  reader: z.enum(["gemini", "local"]),
});
export type SymbolMention = z.infer<typeof SymbolMention>;
