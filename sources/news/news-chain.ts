import type { NewsArticle } from "../../messages/news.ts";
import type { SourceChain } from "../source-chain.ts";
import type { NewsSource } from "./news-source.ts";

/**
 * The news sources as one chain (sources/source-chain.ts, NEWS_SOURCES), seen by those beside the
 * poller: the reader's follow-up searches, and the node's `/health` `news` check.
 */

/** follow-up results handed to a reader per search: a few articles give a model context */
const FOLLOW_UP_PAGE_SIZE = 5;

/**
 * A reader's search for context (the Gemini reader's `search_news` tool) through the chain. A
 * search the chain cannot answer finds nothing: the model then reads with what it has, and the
 * failure is said once through `onError`, never thrown into the reading.
 */
export function followUpSearch(
  chain: SourceChain<NewsSource>,
  onError: (error: unknown) => void,
): (query: string, signal?: AbortSignal) => Promise<readonly NewsArticle[]> {
  return async (query, signal) => {
    try {
      const { value } = await chain.call((s) =>
        s.search({ location: query, keywords: [], page: 1, pageSize: FOLLOW_UP_PAGE_SIZE }, signal),
      );
      return value.articles;
    } catch (error) {
      onError(error);
      return [];
    }
  };
}

/** the news streams while some source of the chain is not resting */
export function newsChainVerdict(chain: Pick<SourceChain<NewsSource>, "health">): {
  readonly ok: boolean;
  readonly reason?: string;
} {
  const health = chain.health();
  const resting = health.filter((h) => h.state === "resting");
  return resting.length === health.length
    ? {
        ok: false,
        reason: `every news source is resting (${resting.map((h) => `${h.name}: ${h.reason}`).join("; ")})`,
      }
    : { ok: true };
}
