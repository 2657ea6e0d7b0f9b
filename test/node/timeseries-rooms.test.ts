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
      // Confluent-framed (magic byte 0) or plain JSON, as the node's codec reads them
      for (const r of await log.read({ topic, partition }, { maxRecords: 100_000 }))
        if (r.value)
          values.push(
            JSON.parse(new TextDecoder().decode(r.value[0] === 0 ? payloadOf(r.value) : r.value)) as T,
          );
  return values;
}

async function table(name: string) {
  const response = await fetch(`${node.apiUrl}/api/timeseries/${name}?limit=10000`);
  const body = (await response.json()) as { columns: string[]; rows: unknown[][] };
  return body.rows.map((row) => Object.fromEntries(body.columns.map((c, i) => [c, row[i]])));
}

/**
 * The rooms keep producing while the test looks, so "equal" is checked as: every record on the
 * log before the query is a row (no gap), and every row is a record on the log after it (no
 * stray or duplicate row), with the log's values.
 */
async function caughtUp<T>(
  topics: readonly string[],
  key: (value: T) => string,
  rowKey: (row: Record<string, unknown>) => string,
  tableName: string,
) {
  return eventually(
    async () => {
      const before = new Map((await logValues<T>(node.log, topics)).map((v) => [key(v), v]));
      const rows = await table(tableName);
      const after = new Map((await logValues<T>(node.log, topics)).map((v) => [key(v), v]));
      const keys = rows.map(rowKey);
      return { before, after, rows, keys };
    },
    ({ before, after, keys }) => {
      const stored = new Set(keys);
      return (
        before.size > 0 &&
        stored.size === keys.length &&
        [...before.keys()].every((k) => stored.has(k)) &&
        keys.every((k) => after.has(k))
      );
    },
    60_000,
  );
}

test("every market bar on the log is one row of market_bars, with its prices, a bar appended twice once", async () => {
  // daily bars of our own beside the room's live ones (those close once a minute): twenty, each
  // appended twice as a producer retry would, in plain JSON as tools without a registry write it
  const day = 86_400_000;
  const first = Math.floor(Date.now() / day) * day - 30 * day;
  const bars: MarketBar[] = Array.from({ length: 20 }, (_, i) => ({
    symbol: "ZZTS",
    timeframe: "1d",
    start: first + i * day,
    open: 100 + i,
    high: 110 + i,
    low: 90 + i,
    close: 105 + i,
    volume: 1000 * (i + 1),
    source: "test",
  }));
  const encoder = new TextEncoder();
  for (let round = 0; round < 2; round++)
    await node.log.append(
      bars.map((bar) => ({
        topic: Topics.marketBars("1d"),
        key: bar.symbol,
        value: encoder.encode(JSON.stringify(bar)),
      })),
    );
  const { before, after, rows, keys } = await caughtUp<MarketBar>(
    TIMEFRAMES.map((tf) => Topics.marketBars(tf)),
    (bar) => `${bar.symbol}/${bar.timeframe}@${bar.start}`,
    (row) => `${row.symbol}/${row.timeframe}@${row.ts}`,
    "market_bars",
  );
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.filter((k) => k.startsWith("ZZTS/")).length).toBe(20);
  for (const k of before.keys()) expect(keys).toContain(k);
  for (const [i, row] of rows.entries()) {
    const bar = after.get(keys[i]!)!;
    expect([row.open, row.high, row.low, row.close, row.volume]).toEqual([
      bar.open,
      bar.high,
      bar.low,
      bar.close,
      bar.volume,
    ]);
  }
}, 90_000);

test("every news insight on the log is one row of news_items, with its sentiment", async () => {
  const { before, after, rows, keys } = await caughtUp<NewsInsight>(
    [Topics.newsInsights],
    (insight) => `${insight.article_id}@${insight.location}`,
    (row) => `${row.article_id}@${row.location}`,
    "news_items",
  );
  expect(new Set(keys).size).toBe(keys.length);
  for (const k of before.keys()) expect(keys).toContain(k);
  for (const [i, row] of rows.entries()) {
    const insight = after.get(keys[i]!)!;
    expect(row.ts).toBe(Date.parse(insight.published_at));
    expect([row.sentiment_score, row.sentiment_label, row.title]).toEqual([
      insight.sentiment.score,
      insight.sentiment.label,
      insight.title,
    ]);
  }
}, 90_000);
