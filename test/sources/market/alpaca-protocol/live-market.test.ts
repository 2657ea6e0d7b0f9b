import { describe, expect, test } from "bun:test";
import { MarketQuote } from "../../../../messages/market.ts";
import { LiveMarket } from "../../../../sources/market/alpaca-protocol/live-market.ts";
import { MarketModel } from "../../../../sources/market/simulator/market-model.ts";

describe("the live simulated market", () => {
  const start = Date.parse("2026-03-02T15:00:00Z");

  test("emits each trade once across ticks, and the minute's bar once the minute is over", () => {
    const model = new MarketModel({ seed: 3, hours: "always", tradesPerMinute: 50 });
    const live = new LiveMarket(model);
    live.follow("AAPL", start);
    const trades: number[] = [];
    const bars: number[] = [];
    for (let t = start; t <= start + 180_000; t += 777) {
      const events = live.tick(t);
      trades.push(...events.trades.map((x) => x.id));
      bars.push(...events.bars.map((b) => b.start));
    }
    expect(new Set(trades).size).toBe(trades.length);
    const minute = start - (start % 60_000);
    expect(bars).toEqual([minute, minute + 60_000]);
    // the whole second minute's trades arrived: they rebuild its bar
    const expected = model.trades("AAPL", minute + 60_000).map((x) => x.id);
    expect(expected.every((id) => trades.includes(id))).toBe(true);
  });

  // regression: sizes derived with `>>` from trade ids past 2^31 came out negative, and every
  // such quote was dead-lettered at ingest
  test("quotes of trades with ids past 2^31 are valid records", () => {
    const live = new LiveMarket(new MarketModel({ seed: 3, hours: "always", tradesPerMinute: 200 }));
    live.follow("NVDA", start);
    const { quotes, trades } = live.tick(start + 120_000);
    expect(trades.some((t) => t.id > 2 ** 31)).toBe(true);
    expect(quotes.length).toBeGreaterThan(10);
    for (const q of quotes)
      expect(
        MarketQuote.safeParse({
          symbol: q.symbol,
          bid_price: q.bidPrice,
          bid_size: q.bidSize,
          ask_price: q.askPrice,
          ask_size: q.askSize,
          timestamp: q.timestamp,
          source: "simulator",
        }).success,
      ).toBe(true);
  });
});
