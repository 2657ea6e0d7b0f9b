import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import type { NewsArticle } from "../../../messages/news.ts";
import { newsApiSource, searchTerms } from "../../../sources/news/newsapi.ts";
import { type NewsApiSimulator, startNewsApiSimulator } from "../../../testkit/newsapi-simulator.ts";
import { corpusArticles } from "./news-fixture.ts";

const KEY = "newsapi-test-key-5e1f";
let simulator: NewsApiSimulator;
let articles: NewsArticle[];

beforeAll(async () => {
  articles = await corpusArticles();
  simulator = startNewsApiSimulator({
    apiKey: KEY,
    articles,
    extraItems: [
      null,
      { title: "no url", publishedAt: "2026-11-30T10:00:00Z" },
      { url: "https://example.org/a", title: "bad time", publishedAt: "yesterday" },
      { url: "https://example.org/b", title: "x".repeat(5_000), publishedAt: "2026-11-30T10:00:00Z" },
      { url: "https://removed.com", title: "[Removed]", publishedAt: "1970-01-01T00:00:00Z" },
      {
        url: "https://example.org/c",
        title: "A fine story",
        publishedAt: "2026-11-30T10:00:00Z",
        source: null,
      },
    ],
  });
});
afterAll(() => simulator.stop());

const query = { location: "Mitte", keywords: [], page: 1, pageSize: 5 };

describe("newsApiSource", () => {
  test("pages through a place's articles, newest first, with NewsAPI's answer shape", async () => {
    const source = newsApiSource({ apiKey: KEY, baseUrl: simulator.url });
    const first = await source.search(query);
    const told = first.articles.filter((a) => a.url.includes("replay.invalid"));
    expect(told.length).toBe(5);
    const times = told.map((a) => Date.parse(a.published_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(first.nextPage).toBe(2);
    const last = await source.search({ ...query, page: 3 });
    expect(last.nextPage).toBeUndefined();
    expect(first.articles[0]).toMatchObject({ provider: "newsapi", location: "Mitte" });
    expect(first.articles[0]!.id).toMatch(/^[0-9a-f]{32}$/);
  });

  test("items that are not articles are rejected with a reason; a withdrawn article is skipped", async () => {
    const page = await newsApiSource({ apiKey: KEY, baseUrl: simulator.url }).search(query);
    expect(page.rejected.map((r) => r.reason)).toEqual([
      expect.stringContaining("not a NewsAPI article"),
      expect.stringContaining("not a NewsAPI article"),
      expect.stringContaining("published_at"),
      expect.stringContaining("title"),
    ]);
    expect(page.rejected.every((r) => r.raw.length <= 4_096)).toBe(true);
    expect(page.articles.some((a) => a.title === "[Removed]")).toBe(false);
    expect(page.articles.find((a) => a.url === "https://example.org/c")?.source).toBe("unknown");
  });

  test("the query names the place as a phrase and the keywords as alternatives", () => {
    expect(searchTerms({ location: "Mitte", keywords: ["traffic", 'air "quality'] })).toBe(
      '"Mitte" AND ("traffic" OR "air  quality")',
    );
  });

  test.each([
    ["no key", undefined, ErrorCodes.SOURCE_UNAUTHORIZED],
    ["a wrong key", "wrong-key-7d2a", ErrorCodes.SOURCE_UNAUTHORIZED],
  ])("%s is SOURCE_UNAUTHORIZED, and the key is in no message", async (_name, apiKey, code) => {
    const failure = await newsApiSource({ apiKey, baseUrl: simulator.url })
      .search(query)
      .catch((e: unknown) => e);
    expect(isPlatformError(failure, code)).toBe(true);
    expect(String((failure as Error).message)).not.toContain("wrong-key-7d2a");
  });

  test("a 429 is RATE_LIMITED with a retry time", async () => {
    simulator.setRateLimited(true);
    try {
      const failure = await newsApiSource({ apiKey: KEY, baseUrl: simulator.url })
        .search(query)
        .catch((e: unknown) => e);
      expect(isPlatformError(failure, ErrorCodes.RATE_LIMITED)).toBe(true);
      expect((failure as { details: { retryAfterMs: number } }).details.retryAfterMs).toBeGreaterThan(0);
    } finally {
      simulator.setRateLimited(false);
    }
  });

  test.each([["a server that is not there", () => "http://127.0.0.1:1", ErrorCodes.SOURCE_UNAVAILABLE]])(
    "%s is SOURCE_UNAVAILABLE",
    async (_name, url, code) => {
      const failure = await newsApiSource({ apiKey: KEY, baseUrl: url(), timeoutMs: 2_000 })
        .search(query)
        .catch((e: unknown) => e);
      expect(isPlatformError(failure, code)).toBe(true);
    },
  );

  test.each([
    ["an answer over 8 MiB", () => new Response("x".repeat(9 * 1024 * 1024))],
    ["an answer that is not JSON", () => new Response("<html>maintenance</html>")],
    ["JSON of another shape", () => Response.json({ articles: "many" })],
    ["a 503", () => new Response("busy", { status: 503 })],
  ])("a hostile or broken server: %s is SOURCE_UNAVAILABLE", async (_name, answer) => {
    const hostile = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: answer });
    try {
      const failure = await newsApiSource({ apiKey: KEY, baseUrl: `http://127.0.0.1:${hostile.port}` })
        .search(query)
        .catch((e: unknown) => e);
      expect(isPlatformError(failure, ErrorCodes.SOURCE_UNAVAILABLE)).toBe(true);
    } finally {
      await hostile.stop(true);
    }
  });
});
