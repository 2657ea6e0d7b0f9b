import { createHash } from "node:crypto";
import { BoundedMap } from "../../../messages/bounded-map.ts";
import type { NewsArticle } from "../../../messages/news.ts";
import { SourceChain, type SourceChainEvent } from "../../source-chain.ts";
import { type ArticleReader, articleText, type ReaderAnswer } from "./article-reader.ts";

/**
 * Gemini first, the local reader when Gemini has no key, is rate-limited, fails or answers
 * something that is not the schema: the answer then carries the local reading and the reason.
 * A failed Gemini rests as any source in a chain does (a 429 for its Retry-After), so a quota
 * that ran out is not asked again for every article.
 *
 * Answers are cached by the article's text hash (title, description, body), so a story seen
 * again, through another source or after a restart of the poll, costs no second model call.
 * The cache is bounded (least recently used out first); fallback answers are not cached.
 */
export interface FallbackReaderOptions {
  readonly cacheEntries?: number;
  readonly now?: () => number;
  readonly onChange?: (event: SourceChainEvent) => void;
}

export interface CachingReader extends ArticleReader {
  stats(): {
    readonly hits: number;
    readonly misses: number;
    readonly fallbacks: number;
    readonly size: number;
  };
  health(): ReturnType<SourceChain<ArticleReader>["health"]>;
}

export function fallbackReader(
  primary: ArticleReader | undefined,
  fallback: ArticleReader,
  options: FallbackReaderOptions = {},
): CachingReader {
  const chain = new SourceChain<ArticleReader>(primary ? [primary, fallback] : [fallback], {
    ...(options.now ? { now: options.now } : {}),
    ...(options.onChange ? { onChange: options.onChange } : {}),
  });
  const cache = new BoundedMap<string, ReaderAnswer>(options.cacheEntries ?? 10_000);
  let hits = 0;
  let misses = 0;
  let fallbacks = 0;
  return {
    name: primary ? `${primary.name}+${fallback.name}` : fallback.name,
    async read(article: NewsArticle, signal?: AbortSignal): Promise<ReaderAnswer> {
      const key = textHash(article);
      // a hit renews the answer: the least recently used goes first
      const cached = cache.touch(key);
      if (cached) {
        hits++;
        return cached;
      }
      misses++;
      const { value, source } = await chain.call((reader) => reader.read(article, signal));
      let answer = value;
      if (primary && source === fallback.name) {
        fallbacks++;
        const reason = chain.health()[0]?.reason ?? "primary reader resting";
        answer = { ...value, fallbackReason: reason.slice(0, 500) };
      }
      // a fallback answer is not kept: when Gemini is back, the story is read by Gemini
      if (answer.fallbackReason !== null) return answer;
      cache.set(key, answer);
      return answer;
    },
    stats: () => ({ hits, misses, fallbacks, size: cache.size }),
    health: () => chain.health(),
  };
}

function textHash(article: NewsArticle): string {
  return createHash("sha256").update(articleText(article)).digest("hex");
}
