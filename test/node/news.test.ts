import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Log } from "../../log/log.ts";
import type { NewsArticle, NewsInsight } from "../../messages/news.ts";
import { Topics } from "../../messages/topics.ts";
import { marketSymbolsOf } from "../../node/market.ts";
import { startNode } from "../../node/start-node.ts";
import corpus from "../../sources/news/corpus/city-news.json" with { type: "json" };
import { CompanyDirectory } from "../../sources/news/reader/company-directory.ts";
import { Gazetteer } from "../../sources/news/reader/gazetteer.ts";
import { readLocally } from "../../sources/news/reader/local-reader.ts";
import { replayCorpusSource } from "../../sources/news/replay-corpus.ts";
import { BERLIN_GRID } from "../../sources/reference/city-districts.ts";
import { US_LARGE_CAPS } from "../../sources/reference/symbol-metadata.ts";
import { startGeminiSimulator } from "../../testkit/gemini-simulator.ts";
import { eventually, testNodeConfig } from "./node-fixture.ts";

/**
 * The news path of a whole node: the poller appends the replay corpus's articles, one news desk
 * per district reads each once and publishes insights and the district's sentiment, to the
 * topics and the API; a restart reads nothing twice; with a Gemini key, the official SDK reads
 * through a Gemini-speaking server.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const DISTRICTS = BERLIN_GRID.names.flat();
// the poller's first poll looks 2 days back: the corpus's stories told within that
const STORIES = corpus.stories.filter((story) => story.hoursAgo < 47).length;
// and the companies the market follows by default, searched by name in the company corpus
const COMPANIES = new CompanyDirectory(US_LARGE_CAPS);
const FOLLOWED = marketSymbolsOf(testNodeConfig("unused", {})).flatMap((s) => COMPANIES.company(s) ?? []);

async function companyStories(): Promise<NewsArticle[]> {
  const source = replayCorpusSource({ districts: DISTRICTS, companies: COMPANIES.companies });
  const all: NewsArticle[] = [];
  for (const company of FOLLOWED) {
    const page = await source.search({
      location: company.searchTerms[0]!,
      company: { symbol: company.symbol, names: company.searchTerms },
      keywords: [],
      page: 1,
      pageSize: 100,
    });
    all.push(...page.articles);
  }
  return all;
}
const COMPANY_STORIES = (await companyStories()).length;
const ALL_STORIES = DISTRICTS.length * STORIES + COMPANY_STORIES;

async function topicCount(log: Log, topic: string): Promise<number> {
  let total = 0;
  for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
    total += (await log.read({ topic, partition }, { fromOffset: 0, maxRecords: 10_000 })).length;
  return total;
}

test("every district's stories are read once, published and served; a restart reads none of them again", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "news-node-"));
  dirs.push(dataDir);
  const config = testNodeConfig(dataDir, { news: "on", newsPollMs: 3_600_000, commitIntervalMs: 200 });
  const first = await startNode(config);
  try {
    const all = await eventually(
      async () =>
        (await (await fetch(`${first.apiUrl}/api/news?limit=1000`)).json()) as { insights: NewsInsight[] },
      (body) => body.insights.length === ALL_STORIES,
      30_000,
    );
    expect(new Set(all.insights.map((i) => i.article_id)).size).toBe(ALL_STORIES);
    expect(all.insights.every((i) => i.reader === "local" && i.fallback_reason === null)).toBe(true);
    const mitte = (await (await fetch(`${first.apiUrl}/api/news?location=Mitte&limit=5`)).json()) as {
      insights: NewsInsight[];
      page: { total: number };
    };
    expect(mitte.page.total).toBe(STORIES);
    expect(mitte.insights[0]!.locations).toContain("Mitte");
    const sentiment = (await (await fetch(`${first.apiUrl}/api/news/sentiment`)).json()) as {
      locations: { location: string; articles: number }[];
    };
    expect(sentiment.locations.map((l) => l.location).sort()).toEqual([...DISTRICTS].sort());
    expect(sentiment.locations.every((l) => l.articles === STORIES)).toBe(true);
    await eventually(
      () => topicCount(first.log, Topics.newsInsights),
      (n) => n === ALL_STORIES,
    );
  } finally {
    await first.stop();
  }

  // the same data dir: the poller offers every article again; the desks, restored, skip them
  const second = await startNode(config);
  try {
    await eventually(
      async () =>
        (
          (await (await fetch(`${second.apiUrl}/api/news/sources`)).json()) as {
            poll: { polls: number; lastPollAt?: number };
          }
        ).poll,
      (poll) => poll.lastPollAt !== undefined,
    );
    // what the first life's desks saved is back, and the re-offered articles reach them
    await eventually(
      () => topicCount(second.log, Topics.newsArticlesRaw),
      (n) => n === 2 * ALL_STORIES,
    );
    // every re-offered article went through its desk: the desks' group committed past them all
    await eventually(
      async () =>
        [
          ...(await second.log.groupOffsets(`${config.applicationId}-news`, Topics.newsArticlesRaw)).values(),
        ].reduce((a, b) => a + b, 0),
      (n) => n === 2 * ALL_STORIES,
    );
    expect(await topicCount(second.log, Topics.newsInsights)).toBe(ALL_STORIES);
  } finally {
    await second.stop();
  }
}, 90_000);

test.each([
  ["a place nobody follows", "/api/news?location=Atlantis", 404, "NOT_FOUND"],
  ["an empty place", "/api/news?location=", 400, "BAD_REQUEST"],
  ["a place name of 5,000 characters", `/api/news?location=${"x".repeat(5000)}`, 400, "BAD_REQUEST"],
  ["a negative limit", "/api/news?limit=-1", 400, "BAD_REQUEST"],
])("the news API answers %s with a clear error", async (_name, path, status, code) => {
  const dataDir = mkdtempSync(join(tmpdir(), "news-api-"));
  dirs.push(dataDir);
  const node = await startNode(testNodeConfig(dataDir, { news: "on", newsPollMs: 3_600_000 }));
  try {
    const response = await fetch(`${node.apiUrl}${path}`);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  } finally {
    await node.stop();
  }
});

test("with a Gemini key the official SDK reads the news, searching for context, through GEMINI_BASE_URL", async () => {
  const gemini = startGeminiSimulator({
    apiKey: "gemini-node-key-3c1d",
    gazetteer: new Gazetteer(DISTRICTS),
    companies: COMPANIES,
    asksForSearch: true,
  });
  const dataDir = mkdtempSync(join(tmpdir(), "news-gemini-"));
  dirs.push(dataDir);
  const node = await startNode(
    testNodeConfig(dataDir, {
      news: "on",
      newsPollMs: 3_600_000,
      newsLocations: "Pankow",
      geminiApiKey: "gemini-node-key-3c1d",
      geminiBaseUrl: gemini.url,
    }),
  );
  try {
    const body = await eventually(
      async () =>
        (await (await fetch(`${node.apiUrl}/api/news?location=Pankow`)).json()) as {
          insights?: NewsInsight[];
        },
      (b) => (b.insights?.length ?? 0) === STORIES,
      30_000,
    );
    expect(
      body.insights!.every((i) => i.reader === "gemini" && i.follow_up_queries[0] === "Pankow news"),
    ).toBe(true);
    // the followed companies' stories are read by Gemini too, and name their companies
    const apple = await eventually(
      async () =>
        (await (await fetch(`${node.apiUrl}/api/news?location=Apple`)).json()) as {
          insights?: NewsInsight[];
        },
      (b) => (b.insights?.length ?? 0) === 4,
      30_000,
    );
    expect(apple.insights!.every((i) => i.reader === "gemini" && i.symbols?.[0] === "AAPL")).toBe(true);
    // one structured answer per article, the company stories included, none twice
    await eventually(
      async () => gemini.requests.filter((r) => r.structured).length,
      (n) => n >= STORIES + COMPANY_STORIES,
      30_000,
    );
    expect(gemini.requests.filter((r) => r.structured).length).toBe(STORIES + COMPANY_STORIES);
  } finally {
    await node.stop();
    await gemini.stop();
  }
}, 60_000);

test("with the feature store on, each district's news sentiment is served online as its desk publishes it", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "news-features-"));
  dirs.push(dataDir);
  const node = await startNode(
    testNodeConfig(dataDir, { news: "on", newsPollMs: 3_600_000, features: "on", commitIntervalMs: 200 }),
  );
  try {
    const path = `/api/features/online?view=district_news_sentiment&entities=${DISTRICTS.map(encodeURIComponent).join(",")}`;
    const online = await eventually(
      async () =>
        (await (await fetch(`${node.apiUrl}${path}`)).json()) as {
          results?: {
            entity: string;
            status: string;
            values: { sentiment: number | null; articles: number | null };
          }[];
        },
      (body) => (body.results ?? []).every((r) => r.status === "PRESENT" && r.values.articles === STORIES),
      30_000,
    );
    const sentiment = (await (await fetch(`${node.apiUrl}/api/news/sentiment`)).json()) as {
      locations: { location: string; sentiment: number }[];
    };
    // the online value is the desk's latest, place by place
    for (const { location, sentiment: value } of sentiment.locations)
      expect(online.results?.find((r) => r.entity === location)?.values.sentiment).toBe(value);
    expect(online.results?.length).toBe(DISTRICTS.length);
  } finally {
    await node.stop();
  }
}, 60_000);

test("offline, the replay corpus's company stories become each followed company's news sentiment, served online and kept in the lake", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "news-symbols-"));
  dirs.push(dataDir);
  // what the local reader says each article is about: a company's own stories, and partners'
  const expected = new Map<string, number>();
  for (const article of await companyStories())
    for (const symbol of readLocally(article, new Gazetteer(DISTRICTS), COMPANIES).symbols ?? [])
      expected.set(symbol, (expected.get(symbol) ?? 0) + 1);
  const followed = FOLLOWED.map((c) => c.symbol);
  expect(followed.every((s) => (expected.get(s) ?? 0) >= 4)).toBe(true);
  const node = await startNode(
    testNodeConfig(dataDir, {
      news: "on",
      newsPollMs: 3_600_000,
      features: "on",
      lake: "on",
      lakeLingerMs: 100,
      commitIntervalMs: 200,
    }),
  );
  try {
    const path = `/api/features/online?view=symbol_news_sentiment&entities=${followed.map(encodeURIComponent).join(",")}`;
    const online = await eventually(
      async () =>
        (await (await fetch(`${node.apiUrl}${path}`)).json()) as {
          results?: {
            entity: string;
            status: string;
            values: { sentiment: number | null; articles: number | null };
          }[];
        },
      (body) =>
        (body.results ?? []).length === followed.length &&
        (body.results ?? []).every(
          (r) => r.status === "PRESENT" && r.values.articles === expected.get(r.entity),
        ),
      45_000,
    );
    const values = online.results!.map((r) => r.values.sentiment!);
    expect(values.every((v) => v >= -1 && v <= 1)).toBe(true);
    // companies hear different stories, so their sentiments differ
    expect(new Set(values).size).toBeGreaterThan(1);
    // the feature's history: every sentiment a desk published is a row of the gold table
    const rows = (
      await eventually(
        async () =>
          (await (
            await fetch(`${node.apiUrl}/api/lake/query`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                sql: "SELECT symbol, max(articles) AS articles FROM gold_symbol_news_sentiment GROUP BY symbol",
              }),
            })
          ).json()) as { rows?: { symbol: string; articles: number }[] },
        (body) =>
          (body.rows ?? []).length === expected.size &&
          (body.rows ?? []).every((r) => Number(r.articles) === expected.get(r.symbol)),
        45_000,
      )
    ).rows!;
    // a company that is not followed but named by a followed one's story has its sentiment too
    expect(rows.map((r) => r.symbol).sort()).toEqual([...expected.keys()].sort());
  } finally {
    await node.stop();
  }
}, 120_000);
