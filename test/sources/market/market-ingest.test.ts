import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
import type { Log } from "../../../log/log.ts";
import type { DeadLetter } from "../../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { Topics } from "../../../messages/topics.ts";
import { MarketIngest } from "../../../sources/market/market-ingest.ts";

/**
 * The market ingest: what validates is appended keyed by symbol at its event time, a back-fill's
 * bars also where the symbol actors and the bar readers take them, what does not validate is a
 * dead letter; its batching is the log's (log/batched-appends.ts): a failed append waits for the
 * next flush, and past `maxQueued` the oldest are shed and counted.
 */
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const PARTITIONS = 2;
const AT = Date.parse("2024-03-04T15:00:00Z");
const trade = (symbol: string, price = 100) => ({
  symbol,
  price,
  size: 10,
  timestamp: AT,
  source: "simulator",
});
const quote = {
  symbol: "AAPL",
  bid_price: 1,
  bid_size: 1,
  ask_price: 2,
  ask_size: 1,
  timestamp: AT,
  source: "simulator",
};
const bar = (timeframe: string, source: string) => ({
  symbol: "MSFT",
  timeframe,
  start: AT,
  open: 1,
  high: 2,
  low: 1,
  close: 2,
  volume: 5,
  source,
});

async function ingestOnLog(options: { failAppends?: number; maxQueued?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "market-ingest-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  cleanup.push(() => log.close());
  let failing = options.failAppends ?? 0;
  const flaky: Log = Object.create(log, {
    append: {
      value: (records: Parameters<Log["append"]>[0]) =>
        failing-- > 0
          ? Promise.reject(new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "broker down"))
          : log.append(records),
    },
  });
  const letters: [DeadLetter, string][] = [];
  const encodedAs: string[] = [];
  const errors: unknown[] = [];
  const ingest = new MarketIngest({
    log: flaky,
    encode: (topic, value) => {
      encodedAs.push(topic);
      return new TextEncoder().encode(JSON.stringify(value));
    },
    onDeadLetter: (letter, topic) => letters.push([letter, topic]),
    onError: (error) => errors.push(error),
    lingerMs: 60_000,
    ...(options.maxQueued ? { maxQueued: options.maxQueued } : {}),
    now: () => AT,
  });
  const recordsOf = async (topic: string) => {
    const out: { key: string | null; timestamp: number; value: unknown }[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++)
      for (const r of await log.read({ topic, partition }))
        out.push({
          key: r.key,
          timestamp: r.timestamp,
          value: JSON.parse(new TextDecoder().decode(r.value!)),
        });
    return out;
  };
  for (const topic of [
    Topics.marketTradesRaw,
    Topics.marketQuotesRaw,
    Topics.marketBarsRaw,
    Topics.marketBars("5m"),
  ])
    await log.createTopic({ name: topic, partitions: PARTITIONS });
  return { ingest, letters, encodedAs, errors, recordsOf };
}

test("trades, quotes and bars are appended to their raw topics, keyed by symbol at their event time", async () => {
  const w = await ingestOnLog();
  w.ingest.trade(trade("AAPL"));
  w.ingest.quote(quote);
  w.ingest.bar(bar("1m", "alpaca"));
  await w.ingest.flush();
  expect(await w.recordsOf(Topics.marketTradesRaw)).toEqual([
    { key: "AAPL", timestamp: AT, value: trade("AAPL") },
  ]);
  expect(await w.recordsOf(Topics.marketQuotesRaw)).toEqual([{ key: "AAPL", timestamp: AT, value: quote }]);
  expect(await w.recordsOf(Topics.marketBarsRaw)).toEqual([
    { key: "MSFT", timestamp: AT, value: bar("1m", "alpaca") },
  ]);
  expect(w.ingest.counts).toEqual({ trades: 1, quotes: 1, bars: 1, rejected: 0, dropped: 0 });
});

test.each([
  ["a live minute bar", bar("1m", "alpaca"), [], [Topics.marketBarsRaw]],
  [
    "a back-filled minute bar joins the trades, framed as a bar",
    bar("1m", "backfill:alpaca"),
    [Topics.marketTradesRaw],
    [Topics.marketBarsRaw, Topics.marketBarsRaw],
  ],
  [
    "a back-filled longer bar goes to its timeframe's topic",
    bar("5m", "backfill:alpaca"),
    [Topics.marketBars("5m")],
    [Topics.marketBarsRaw, Topics.marketBars("5m")],
  ],
])("%s", async (_name, value, alsoIn, encodedAs) => {
  const w = await ingestOnLog();
  w.ingest.bar(value);
  await w.ingest.flush();
  expect((await w.recordsOf(Topics.marketBarsRaw)).map((r) => r.value)).toEqual([value]);
  for (const topic of alsoIn) expect((await w.recordsOf(topic)).map((r) => r.value)).toEqual([value]);
  expect(w.encodedAs).toEqual(encodedAs);
});

test("a record that does not validate is a dead letter with its reason, counted, never appended", async () => {
  const w = await ingestOnLog();
  w.ingest.trade({ ...trade("AAPL"), price: -1 });
  w.ingest.bar({ ...bar("1m", "alpaca"), high: 0 });
  await w.ingest.flush();
  expect(w.letters.map(([l, topic]) => [l.source, l.code, topic])).toEqual([
    ["market:simulator", "SCHEMA_VIOLATION", Topics.marketTradesRaw],
    ["market:alpaca", "SCHEMA_VIOLATION", Topics.marketBarsRaw],
  ]);
  expect(w.letters[0]![0].reason).toMatch(/^price: /);
  expect(await w.recordsOf(Topics.marketTradesRaw)).toEqual([]);
  expect(w.ingest.counts.rejected).toBe(2);
});

test("a failed append fails its flush and its trades go with the next one", async () => {
  const w = await ingestOnLog({ failAppends: 1 });
  w.ingest.trade(trade("AAPL", 1));
  await expect(w.ingest.flush()).rejects.toThrow(/broker down/);
  expect(w.errors.map((e) => (e as Error).message)).toEqual([expect.stringMatching(/broker down/)]);
  w.ingest.trade(trade("AAPL", 2));
  await w.ingest.flush();
  expect(
    (await w.recordsOf(Topics.marketTradesRaw)).map((r) => (r.value as { price: number }).price),
  ).toEqual([1, 2]);
});

test("past maxQueued the oldest waiting trades are shed and counted as dropped", async () => {
  const w = await ingestOnLog({ maxQueued: 2 });
  for (const price of [1, 2, 3, 4]) w.ingest.trade(trade("AAPL", price));
  expect(w.ingest.counts.dropped).toBe(2);
  await w.ingest.flush();
  expect(
    (await w.recordsOf(Topics.marketTradesRaw)).map((r) => (r.value as { price: number }).price),
  ).toEqual([3, 4]);
  expect(w.ingest.counts.trades).toBe(4);
});
