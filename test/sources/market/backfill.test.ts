import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedLog } from "../../../log/embedded/embedded-log.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { MarketBar } from "../../../messages/market.ts";
import { Topics } from "../../../messages/topics.ts";
import { AlpacaSource } from "../../../sources/market/alpaca/alpaca-source.ts";
import { backfill } from "../../../sources/market/backfill.ts";
import { tradingDays } from "../../../sources/market/calendar/nyse-calendar.ts";
import type { MarketDataSource } from "../../../sources/market/market-data-source.ts";
import { MarketModel } from "../../../sources/market/simulator/market-model.ts";
import { SimulatorSource } from "../../../sources/market/simulator-source.ts";
import { startTestMarket, TEST_KEYS } from "./market-fixture.ts";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function tempLog(): Promise<Log> {
  const dir = mkdtempSync(join(tmpdir(), "backfill-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => log.close());
  return log;
}

const json = (_topic: string, value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function barsIn(log: Log, topic: string): Promise<MarketBar[]> {
  const bars: MarketBar[] = [];
  for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
    for (const r of await log.read({ topic, partition }, { fromOffset: 0, maxRecords: 100_000 }))
      bars.push(MarketBar.parse(JSON.parse(new TextDecoder().decode(r.value!))));
  return bars;
}

const FROM = Date.parse("2024-01-01T00:00:00Z");
const TO = Date.parse("2025-01-01T00:00:00Z");
const DAYS_2024 = tradingDays("2024-01-01", "2024-12-31").length;

describe("the back-fill", () => {
  test("writes every trading day of each symbol once; a second run writes nothing", async () => {
    const log = await tempLog();
    await log.createTopic({ name: Topics.marketBars("1d"), partitions: 4 });
    const source = new SimulatorSource(new MarketModel({ seed: 1, hours: "calendar" }));
    const first = await backfill(
      { log, source, encode: json },
      { symbols: ["AAPL", "MSFT"], timeframe: "1d", from: FROM, to: TO },
    );
    expect(first.written).toBe(2 * DAYS_2024);
    const second = await backfill(
      { log, source, encode: json },
      { symbols: ["AAPL", "MSFT"], timeframe: "1d", from: FROM, to: TO },
    );
    expect(second.written).toBe(0);
    const bars = await barsIn(log, Topics.marketBars("1d"));
    expect(bars).toHaveLength(2 * DAYS_2024);
    expect(new Set(bars.map((b) => `${b.symbol}@${b.start}`)).size).toBe(bars.length);
    expect(bars.every((b) => b.source === "backfill:simulator")).toBe(true);
  });

  test("back-filled history outlives the log's time retention (regression: records stamped with the bar's start expired at once)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "backfill-retention-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = new EmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
    cleanup.push(() => log.close());
    await log.createTopic({ name: Topics.marketBars("1d"), partitions: 2, retentionMs: 7 * 86_400_000 });
    const source = new SimulatorSource(new MarketModel({ seed: 1, hours: "calendar" }));
    const appendedAt = Date.now();
    const result = await backfill(
      { log, source, encode: json, now: () => appendedAt },
      { symbols: ["AAPL"], timeframe: "1d", from: FROM, to: TO },
    );
    await log.maintain(appendedAt + 60_000);
    expect(await barsIn(log, Topics.marketBars("1d"))).toHaveLength(result.written);
    // and the retention still applies, from the time they were appended
    await log.maintain(appendedAt + 8 * 86_400_000);
    expect(await barsIn(log, Topics.marketBars("1d"))).toHaveLength(0);
  });

  test("an interrupted run resumes after its last durable page and leaves no duplicate", async () => {
    const log = await tempLog();
    const source = new SimulatorSource(new MarketModel({ seed: 1, hours: "calendar" }));
    const abort = new AbortController();
    let pages = 0;
    const interrupted: MarketDataSource = {
      name: source.name,
      stream: (symbols, events) => source.stream(symbols, events),
      async *history(request) {
        for await (const page of source.history(request)) {
          if (++pages === 3) abort.abort(new Error("interrupted"));
          yield page;
        }
      },
    };
    const request = { symbols: ["NVDA"], timeframe: "1d" as const, from: FROM, to: TO, pageSize: 50 };
    await expect(
      backfill({ log, source: interrupted, encode: json }, { ...request, signal: abort.signal }),
    ).rejects.toThrow();
    const partial = await barsIn(log, Topics.marketBars("1d"));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(DAYS_2024);
    const resumed = await backfill({ log, source, encode: json }, request);
    expect(resumed.written).toBe(DAYS_2024 - partial.length);
    const bars = await barsIn(log, Topics.marketBars("1d"));
    expect(new Set(bars.map((b) => b.start)).size).toBe(DAYS_2024);
    expect(bars).toHaveLength(DAYS_2024);
  });

  test("through the official SDK it pages minute bars within the server's rate limit (no 429)", async () => {
    const market = startTestMarket({ hours: "calendar", rateLimit: { maxRequests: 4, intervalMs: 1000 } });
    cleanup.push(() => market.sim.stop());
    const log = await tempLog();
    const source = new AlpacaSource({
      ...TEST_KEYS,
      dataUrl: market.sim.url,
      rateLimit: { maxRequests: 4, intervalMs: 1000 },
    });
    const from = Date.parse("2024-03-04T00:00:00Z");
    const to = Date.parse("2024-03-09T00:00:00Z"); // a week: 5 sessions of 390 minutes
    const result = await backfill(
      { log, source, encode: json },
      { symbols: ["AAPL", "MSFT"], timeframe: "1m", from, to, pageSize: 500 },
    );
    expect(result.written).toBe(2 * 5 * 390);
    expect(result.pages).toBeGreaterThanOrEqual(8);
    expect(market.sim.stats().rejectedRequests).toBe(0);
  }, 60_000);
});
