import { expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { followUpSearch, newsChainVerdict } from "../../../sources/news/news-chain.ts";
import type { NewsSource } from "../../../sources/news/news-source.ts";
import { newsApiSource } from "../../../sources/news/newsapi.ts";
import { replayCorpusSource } from "../../../sources/news/replay-corpus.ts";
import { SourceChain } from "../../../sources/source-chain.ts";
import { DISTRICTS, FIXED_NOW } from "./news-fixture.ts";

/**
 * The news chain as the reader and /health see it, on real adapters: NewsAPI without a key
 * refuses at once (SOURCE_UNAUTHORIZED, no request made), the replay corpus answers.
 */
const keyless = () => newsApiSource({ apiKey: undefined });
const replay = () => replayCorpusSource({ districts: DISTRICTS, now: () => FIXED_NOW });
const chainOf = (...sources: NewsSource[]) => new SourceChain<NewsSource>(sources, { now: () => FIXED_NOW });

test("a follow-up search is answered by the first source that answers, a few articles at most", async () => {
  const errors: unknown[] = [];
  const search = followUpSearch(chainOf(keyless(), replay()), (error) => errors.push(error));
  const articles = await search(DISTRICTS[0]!);
  expect(articles.length).toBeGreaterThan(0);
  expect(articles.length).toBeLessThanOrEqual(5);
  expect(new Set(articles.map((a) => a.provider))).toEqual(new Set(["replay"]));
  expect(errors).toEqual([]);
});

test("a follow-up search no source answers finds nothing and says why once", async () => {
  const errors: unknown[] = [];
  const search = followUpSearch(chainOf(keyless()), (error) => errors.push(error));
  expect(await search(DISTRICTS[0]!)).toEqual([]);
  expect(errors).toHaveLength(1);
  expect(isPlatformError(errors[0], "SOURCE_UNAVAILABLE")).toBe(true);
});

test("the news is healthy while a source is not resting, and says which rest and why when all do", async () => {
  const chain = chainOf(keyless());
  expect(newsChainVerdict(chain)).toEqual({ ok: true });
  await followUpSearch(chain, () => {})(DISTRICTS[0]!);
  const verdict = newsChainVerdict(chain);
  expect(verdict.ok).toBe(false);
  expect(verdict.reason).toMatch(/^every news source is resting \(newsapi: /);
});

test("one source resting of two keeps the news healthy", async () => {
  const chain = chainOf(keyless(), replay());
  await followUpSearch(chain, () => {})(DISTRICTS[0]!);
  expect(chain.health().map((h) => h.state)).toEqual(["resting", "active"]);
  expect(newsChainVerdict(chain)).toEqual({ ok: true });
});
