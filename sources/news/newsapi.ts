import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { MAX_ARTICLE_TEXT, NewsArticle } from "../../messages/news.ts";
import { articleIdOf, type NewsPage, type NewsQuery, type NewsSource, rejectedItem } from "./news-source.ts";
import { getProviderJson } from "./provider-http.ts";

/**
 * NewsAPI (newsapi.org) over its v2 REST API: `/v2/everything` for a place and keywords, newest
 * first, paged. The key goes in the `X-Api-Key` header, never in the URL, so no log or error
 * that shows a URL can show the key. Without a key the adapter refuses at once
 * (SOURCE_UNAUTHORIZED) and the chain uses the next source.
 *
 * NewsAPI answers `{status:"ok", totalResults, articles:[...]}` or `{status:"error", code,
 * message}`; `rateLimited` is a 429, `apiKey*` codes are 401, and on the free plan asking past
 * the 100th result is `maximumResultsReached` (treated as the last page, not an error).
 */
export interface NewsApiOptions {
  readonly apiKey: string | undefined;
  /** default https://newsapi.org; the tests point it at the NewsAPI-speaking simulator */
  readonly baseUrl?: string;
  readonly language?: string;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

const NewsApiArticle = z.object({
  source: z
    .object({ id: z.string().nullable().optional(), name: z.string().nullable().optional() })
    .nullable()
    .optional(),
  author: z.string().nullable().optional(),
  title: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  url: z.string(),
  publishedAt: z.string(),
  content: z.string().nullable().optional(),
});
const NewsApiAnswer = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), totalResults: z.number(), articles: z.array(z.unknown()).max(1_000) }),
  z.object({
    status: z.literal("error"),
    code: z.string().max(100),
    message: z.string().max(2_000).optional(),
  }),
]);

/** NewsAPI's marker for an article its publisher withdrew */
const REMOVED = "[Removed]";

export function newsApiSource(options: NewsApiOptions): NewsSource {
  const baseUrl = options.baseUrl ?? "https://newsapi.org";
  const now = options.now ?? Date.now;
  return {
    name: "newsapi",
    async search(query: NewsQuery, signal?: AbortSignal): Promise<NewsPage> {
      if (!options.apiKey)
        throw new PlatformError(ErrorCodes.SOURCE_UNAUTHORIZED, "newsapi has no key (NEWSAPI_KEY)");
      const url = new URL("/v2/everything", baseUrl);
      url.searchParams.set("q", searchTerms(query));
      url.searchParams.set("sortBy", "publishedAt");
      url.searchParams.set("language", options.language ?? "en");
      url.searchParams.set("page", String(query.page));
      url.searchParams.set("pageSize", String(Math.min(100, query.pageSize)));
      if (query.from !== undefined) url.searchParams.set("from", new Date(query.from).toISOString());
      const { status, json } = await getProviderJson({
        provider: "newsapi",
        url,
        headers: { "x-api-key": options.apiKey },
        timeoutMs: options.timeoutMs ?? 10_000,
        maxBytes: 8 * 1024 * 1024,
        ...(signal ? { signal } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      const answer = NewsApiAnswer.safeParse(json);
      if (!answer.success)
        throw new PlatformError(
          ErrorCodes.SOURCE_UNAVAILABLE,
          `newsapi answered ${status} in an unknown shape`,
        );
      if (answer.data.status === "error") return errorPage(answer.data.code, status);
      const fetchedAt = now();
      const articles: NewsPage["articles"][number][] = [];
      const rejected: NewsPage["rejected"][number][] = [];
      for (const item of answer.data.articles) {
        const raw = NewsApiArticle.safeParse(item);
        if (!raw.success) {
          rejected.push(
            rejectedItem(item, `not a NewsAPI article: ${raw.error.issues[0]?.message ?? "invalid"}`),
          );
          continue;
        }
        if (raw.data.title === REMOVED || raw.data.url.includes("removed.com")) continue;
        const article = NewsArticle.safeParse({
          id: articleIdOf(raw.data.url),
          url: raw.data.url,
          title: raw.data.title ?? "",
          description: cut(raw.data.description),
          content: cut(raw.data.content),
          source: (raw.data.source?.name ?? "unknown").slice(0, 200),
          author: raw.data.author?.slice(0, 500) ?? null,
          published_at: raw.data.publishedAt,
          location: query.location,
          ...(query.company ? { symbol: query.company.symbol } : {}),
          provider: "newsapi",
          fetched_at: fetchedAt,
        });
        if (article.success) articles.push(article.data);
        else
          rejected.push(
            rejectedItem(
              item,
              `${article.error.issues[0]?.path.join(".")}: ${article.error.issues[0]?.message}`,
            ),
          );
      }
      const seen = query.page * Math.min(100, query.pageSize);
      return {
        articles,
        rejected,
        nextPage:
          seen < answer.data.totalResults && answer.data.articles.length > 0 ? query.page + 1 : undefined,
      };
    },
  };
}

function errorPage(code: string, status: number): NewsPage {
  if (code === "maximumResultsReached") return { articles: [], rejected: [], nextPage: undefined };
  if (code === "rateLimited")
    throw new PlatformError(ErrorCodes.RATE_LIMITED, "newsapi rate limit reached", {
      details: { retryAfterMs: 3_600_000 },
    });
  if (code.startsWith("apiKey"))
    throw new PlatformError(ErrorCodes.SOURCE_UNAUTHORIZED, `newsapi refused the key (${code})`);
  throw new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, `newsapi answered ${status} ${code.slice(0, 100)}`);
}

/**
 * The place in quotes (a phrase), ANDed with the keywords, each quoted: NewsAPI's q syntax; a
 * company is any of its names, each a phrase.
 */
export function searchTerms(query: Pick<NewsQuery, "location" | "keywords" | "company">): string {
  const phrase = (term: string) => `"${term.replace(/["\\]/g, " ").trim()}"`;
  if (query.company) {
    const names = query.company.names.filter((n) => n.trim().length > 0).map(phrase);
    return names.length === 1 ? names[0]! : `(${names.join(" OR ")})`;
  }
  const keywords = query.keywords.filter((k) => k.trim().length > 0).map(phrase);
  const place = phrase(query.location);
  return keywords.length === 0 ? place : `${place} AND (${keywords.join(" OR ")})`;
}

const cut = (text: string | null | undefined) => (text == null ? null : text.slice(0, MAX_ARTICLE_TEXT));
