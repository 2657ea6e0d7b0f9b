import { expect, test } from "bun:test";
import type { NewsArticle } from "../../../messages/news.ts";
import { NewsPoller } from "../../../sources/news/news-poller.ts";
import type { NewsQuery, NewsSource } from "../../../sources/news/news-source.ts";
import { replayCorpusSource } from "../../../sources/news/replay-corpus.ts";
import { SourceChain } from "../../../sources/source-chain.ts";
import { DISTRICTS, FIXED_NOW } from "./news-fixture.ts";

function pollerOver(deliver: (articles: readonly NewsArticle[]) => Promise<void>, queries: NewsQuery[] = []) {
  const replay = replayCorpusSource({ districts: DISTRICTS, now: () => FIXED_NOW });
  const recording: NewsSource = {
    name: "replay",
    search: (query) => {
      queries.push(query);
      return replay.search(query);
    },
  };
  const errors: unknown[] = [];
  const poller = new NewsPoller({
    chain: new SourceChain([recording], { now: () => FIXED_NOW }),
    locations: ["Mitte"],
    keywords: [],
    intervalMs: 60_000,
    pageSize: 5,
    lookbackMs: 100 * 3_600_000,
    deliver: (articles) => deliver(articles),
    onError: (e) => errors.push(e),
    now: () => FIXED_NOW,
  });
  return { poller, errors };
}

test("a poll pages through a place's articles and a second poll delivers none of them again", async () => {
  const delivered: string[] = [];
  const queries: NewsQuery[] = [];
  const { poller } = pollerOver(async (articles) => {
    delivered.push(...articles.map((a) => a.id));
  }, queries);
  await poller.pollOnce();
  expect(delivered.length).toBe(12);
  expect(queries.map((q) => q.page)).toEqual([1, 2, 3]);
  await poller.pollOnce();
  expect(delivered.length).toBe(12);
  // the second poll asks only since the first one (less the overlap)
  expect(queries.at(-1)!.from).toBe(FIXED_NOW - 15 * 60_000);
  expect(poller.stats()).toMatchObject({ polls: 2, delivered: 12 });
});

test("articles whose append failed are not remembered: the next poll delivers them again", async () => {
  let failing = true;
  const delivered: string[] = [];
  const { poller, errors } = pollerOver(async (articles) => {
    if (failing) throw new Error("the log is down");
    delivered.push(...articles.map((a) => a.id));
  });
  await poller.pollOnce();
  expect(errors.length).toBe(1);
  failing = false;
  await poller.pollOnce();
  expect(new Set(delivered).size).toBe(12);
});

// the ids remembered are bounded (50,000 by default): past the bound the oldest delivered are
// forgotten first, so a source that answers them again gets exactly those delivered again
test("past the ids it remembers, a poll delivers again only the oldest it forgot", async () => {
  const replay = replayCorpusSource({ districts: DISTRICTS, now: () => FIXED_NOW });
  const lookbackMs = 100 * 3_600_000;
  const delivered: string[] = [];
  const poller = new NewsPoller({
    // a source that answers the whole lookback on every poll, not only what is newer
    chain: new SourceChain(
      [{ name: "replay", search: (q) => replay.search({ ...q, from: FIXED_NOW - lookbackMs }) }],
      {
        now: () => FIXED_NOW,
      },
    ),
    locations: ["Mitte"],
    keywords: [],
    intervalMs: 60_000,
    pageSize: 5,
    lookbackMs,
    rememberIds: 10,
    deliver: async (articles) => {
      delivered.push(...articles.map((a) => a.id));
    },
    onError: (e) => {
      throw e;
    },
    now: () => FIXED_NOW,
  });
  await poller.pollOnce();
  const first = [...delivered];
  expect(first.length).toBe(12);
  await poller.pollOnce();
  // the last 10 delivered were remembered: only the 2 before them were forgotten and come again
  // (each evicts one remembered id, but those were already passed on the first page)
  expect(delivered.slice(12)).toEqual(first.slice(0, 2));
  expect(poller.stats().duplicates).toBe(10);
});
