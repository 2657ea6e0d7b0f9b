import type { NewsArticle } from "../messages/news.ts";

/**
 * A local server that speaks NewsAPI's v2 `/v2/everything` (key in `X-Api-Key` or `apiKey`,
 * `q`, `page`, `pageSize`, `{status, totalResults, articles}` answers, `{status:"error", code}`
 * errors with NewsAPI's codes: apiKeyMissing / apiKeyInvalid 401, rateLimited 429,
 * maximumResultsReached 426 past the 100th result as on the free plan). It serves the articles
 * it is given, each in NewsAPI's article shape; `extraItems` adds raw items (hostile shapes)
 * to every page; `rateLimitAfter` answers 429 after that many requests.
 */
export interface NewsApiSimulatorOptions {
  readonly apiKey: string;
  readonly articles: readonly NewsArticle[];
  readonly rateLimitAfter?: number;
  readonly extraItems?: readonly unknown[];
}

export interface NewsApiSimulator {
  readonly url: string;
  readonly queries: string[];
  setRateLimited(limited: boolean): void;
  stop(): Promise<void>;
}

export function startNewsApiSimulator(options: NewsApiSimulatorOptions): NewsApiSimulator {
  const queries: string[] = [];
  let requests = 0;
  let limited = false;
  const error = (status: number, code: string, message: string) =>
    Response.json({ status: "error", code, message }, { status });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      if (url.pathname !== "/v2/everything") return error(404, "notFound", "unknown endpoint");
      const key = request.headers.get("x-api-key") ?? url.searchParams.get("apiKey");
      if (!key) return error(401, "apiKeyMissing", "Your API key is missing.");
      if (key !== options.apiKey) return error(401, "apiKeyInvalid", "Your API key is invalid or incorrect.");
      requests++;
      if (limited || (options.rateLimitAfter !== undefined && requests > options.rateLimitAfter))
        return error(429, "rateLimited", "You have made too many requests recently.");
      const q = url.searchParams.get("q") ?? "";
      queries.push(q);
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1));
      const pageSize = Math.min(100, Math.max(1, Number(url.searchParams.get("pageSize") ?? 100)));
      if (page * pageSize > 100 && (page - 1) * pageSize >= 100)
        return error(426, "maximumResultsReached", "Developer accounts are limited to 100 results.");
      const place = /^"([^"]+)"/.exec(q)?.[1]?.toLowerCase() ?? "";
      const matching = options.articles.filter((a) => place === "" || a.location.toLowerCase() === place);
      const items = matching.slice((page - 1) * pageSize, page * pageSize).map((a) => ({
        source: { id: null, name: a.source },
        author: a.author,
        title: a.title,
        description: a.description,
        url: a.url,
        urlToImage: null,
        publishedAt: a.published_at,
        content: a.content,
      }));
      return Response.json({
        status: "ok",
        totalResults: matching.length,
        articles: [...items, ...(options.extraItems ?? [])],
      });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    queries,
    setRateLimited(value) {
      limited = value;
    },
    async stop() {
      await server.stop(true);
    },
  };
}
