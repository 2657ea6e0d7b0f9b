import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { NewsArticle } from "../../messages/news.ts";
import { articleIdOf, type NewsPage, type NewsQuery, type NewsSource, rejectedItem } from "./news-source.ts";
import { getProviderJson } from "./provider-http.ts";

/**
 * GDELT's DOC 2.0 API (api.gdeltproject.org/api/v2/doc/doc, mode=ArtList): an open news index
 * with no key, the fallback when NewsAPI has none or is rate-limited. It has no pages: one call
 * returns up to `maxrecords` (250) articles, newest first, with title, URL, domain and the time
 * GDELT saw it (`seendate`, `YYYYMMDDTHHMMSSZ`); no description or body.
 */
export interface GdeltOptions {
  /** default https://api.gdeltproject.org */
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

const GdeltArticle = z.object({
  url: z.string(),
  title: z.string(),
  seendate: z.string().regex(/^\d{8}T\d{6}Z$/),
  domain: z.string().optional(),
});
const GdeltAnswer = z.object({ articles: z.array(z.unknown()).max(1_000).optional() });

export function gdeltSource(options: GdeltOptions = {}): NewsSource {
  const baseUrl = options.baseUrl ?? "https://api.gdeltproject.org";
  const now = options.now ?? Date.now;
  return {
    name: "gdelt",
    async search(query: NewsQuery, signal?: AbortSignal): Promise<NewsPage> {
      // one page only: asking for page 2 is asking for nothing
      if (query.page > 1) return { articles: [], rejected: [], nextPage: undefined };
      const url = new URL("/api/v2/doc/doc", baseUrl);
      url.searchParams.set("query", gdeltQuery(query));
      url.searchParams.set("mode", "ArtList");
      url.searchParams.set("format", "json");
      url.searchParams.set("sort", "DateDesc");
      url.searchParams.set("maxrecords", String(Math.min(250, query.pageSize)));
      if (query.from !== undefined) url.searchParams.set("startdatetime", gdeltTime(query.from));
      const { status, json } = await getProviderJson({
        provider: "gdelt",
        url,
        timeoutMs: options.timeoutMs ?? 10_000,
        maxBytes: 8 * 1024 * 1024,
        ...(signal ? { signal } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      const answer = GdeltAnswer.safeParse(json);
      if (!answer.success || status >= 400)
        throw new PlatformError(
          ErrorCodes.SOURCE_UNAVAILABLE,
          `gdelt answered ${status} in an unknown shape`,
        );
      const fetchedAt = now();
      const articles: NewsArticle[] = [];
      const rejected: NewsPage["rejected"][number][] = [];
      for (const item of answer.data.articles ?? []) {
        const raw = GdeltArticle.safeParse(item);
        if (!raw.success) {
          rejected.push(
            rejectedItem(item, `not a GDELT article: ${raw.error.issues[0]?.message ?? "invalid"}`),
          );
          continue;
        }
        const article = NewsArticle.safeParse({
          id: articleIdOf(raw.data.url),
          url: raw.data.url,
          title: raw.data.title,
          description: null,
          content: null,
          source: (raw.data.domain ?? "unknown").slice(0, 200),
          author: null,
          published_at: isoOfSeenDate(raw.data.seendate),
          location: query.location,
          ...(query.company ? { symbol: query.company.symbol } : {}),
          provider: "gdelt",
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
      return { articles, rejected, nextPage: undefined };
    },
  };
}

/** GDELT's query syntax: phrases in quotes, alternatives ORed inside parentheses */
function gdeltQuery(query: NewsQuery): string {
  const phrase = (term: string) => `"${term.replace(/["()]/g, " ").trim()}"`;
  if (query.company) {
    const names = query.company.names.filter((n) => n.trim().length > 0).map(phrase);
    return names.length === 1 ? names[0]! : `(${names.join(" OR ")})`;
  }
  const keywords = query.keywords.filter((k) => k.trim().length > 0).map(phrase);
  return keywords.length === 0
    ? phrase(query.location)
    : `${phrase(query.location)} (${keywords.join(" OR ")})`;
}

function gdeltTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function isoOfSeenDate(seen: string): string {
  return `${seen.slice(0, 4)}-${seen.slice(4, 6)}-${seen.slice(6, 8)}T${seen.slice(9, 11)}:${seen.slice(11, 13)}:${seen.slice(13, 15)}Z`;
}
