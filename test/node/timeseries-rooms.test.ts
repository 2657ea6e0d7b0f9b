import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Log } from "../../log/log.ts";
import { type MarketBar, TIMEFRAMES } from "../../messages/market.ts";
import type { NewsInsight } from "../../messages/news.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode } from "./node-fixture.ts";

/**
 * The market and news rooms' outputs have a history too: every bar on market.bars.<timeframe>
 * is one row of market_bars (symbol, timeframe, start) and every insight on news.insights one
 * row of news_items (article, place), with the values the log holds.
 */
let node: RunningNode;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({
    market: "on",
    marketSymbols: "AAPL,MSFT",
    news: "on",
    newsPollMs: 3_600_000,
    commitIntervalMs: 200,
    timeseriesLingerMs: 50,
  }));
}, 60_000);
afterAll(() => cleanup?.());

async function logValues<T>(log: Log, topics: readonly string[]): Promise<T[]> {
  const values: T[] = [];
  for (const topic of topics)
    for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
      for (const r of await log.read({ topic, partition }, { maxRecords: 100_000 }))
        if (r.value) values.push(JSON.parse(new TextDecoder().decode(payloadOf(r.value))) as T);
  return values;
}

async function table(name: string) {
  const response = await fetch(`${node.apiUrl}/api/timeseries/${name}?limit=10000`);
  const body = (await response.json()) as { columns: string[]; rows: unknown[][] };
  return body.rows.map((row) => Object.fromEntries(body.columns.map((c, i) => [c, row[i]])));
}

test("every market bar on the log is one row of market_bars, with its prices", async () => {
  const bars = await eventually(
    () =>
      logValues<MarketBar>(
        node.log,
        TIMEFRAMES.map((tf) => Topics.marketBars(tf)),
      ),
    (all) => all.length > 0,
    30_000,
  );
  expect(bars.length).toBeGreaterThan(0);
  const latest = new Map<string, MarketBar>();
  const rows = await eventually(
    async () => {
      for (const bar of await logValues<MarketBar>(
        node.log,
        TIMEFRAMES.map((tf) => Topics.marketBars(tf)),
      ))
        latest.set(`${bar.symbol}/${bar.timeframe}@${bar.start}`, bar);
      return table("market_bars");
    },
    (rows) => rows.length === latest.size,
    30_000,
  );
  expect(rows.length).toBe(latest.size);
  for (const row of rows) {
    const bar = latest.get(`${row.symbol}/${row.timeframe}@${row.ts}`);
    expect(bar).toBeDefined();
    expect([row.open, row.high, row.low, row.close, row.volume]).toEqual([
      bar!.open,
      bar!.high,
      bar!.low,
      bar!.close,
      bar!.volume,
    ]);
  }
}, 90_000);

test("every news insight on the log is one row of news_items, with its sentiment", async () => {
  const byKey = new Map<string, NewsInsight>();
  const rows = await eventually(
    async () => {
      for (const insight of await logValues<NewsInsight>(node.log, [Topics.newsInsights]))
        byKey.set(`${insight.article_id}@${insight.location}`, insight);
      return table("news_items");
    },
    (rows) => byKey.size > 0 && rows.length === byKey.size,
    30_000,
  );
  expect(rows.length).toBe(byKey.size);
  for (const row of rows) {
    const insight = byKey.get(`${row.article_id}@${row.location}`)!;
    expect(row.ts).toBe(Date.parse(insight.published_at));
    expect([row.sentiment_score, row.sentiment_label, row.title]).toEqual([
      insight.sentiment.score,
      insight.sentiment.label,
      insight.title,
    ]);
  }
}, 90_000);
