import { describe, expect, test } from "bun:test";
import { MarketView } from "../../../api/markets/market-view.ts";
import type { MarketBar } from "../../../messages/market.ts";

const bar = (start: number, source: string, close = 10): MarketBar => ({
  symbol: "AAPL",
  timeframe: "1m",
  start,
  open: 10,
  high: 11,
  low: 9,
  close,
  volume: 100,
  source,
});

describe("the market read model", () => {
  test.each([
    {
      name: "an actor bar after a back-filled one",
      first: "backfill:alpaca",
      later: "symbol-actor",
      kept: "backfill:alpaca",
    },
    {
      name: "a back-filled bar after an actor one",
      first: "symbol-actor",
      later: "backfill:alpaca",
      kept: "backfill:alpaca",
    },
    {
      name: "an actor bar after an actor one",
      first: "symbol-actor",
      later: "symbol-actor",
      kept: "symbol-actor",
    },
  ])("keeps the whole minute: $name", ({ first, later, kept }) => {
    const view = new MarketView({ maxBars: 10, maxSymbols: 10 });
    view.bar(bar(60_000, first, 10));
    view.bar(bar(60_000, later, 11));
    const [only] = view.barsOf("AAPL", "1m", 0, 1e12);
    expect(only!.source).toBe(kept);
  });

  test("holds at most maxBars per series (the oldest go) and maxSymbols symbols", () => {
    const view = new MarketView({ maxBars: 3, maxSymbols: 1 });
    for (let i = 0; i < 10; i++) view.bar(bar(i * 60_000, "symbol-actor"));
    expect(view.barsOf("AAPL", "1m", 0, 1e12).map((b) => b.start)).toEqual([7, 8, 9].map((i) => i * 60_000));
    view.bar({ ...bar(0, "symbol-actor"), symbol: "MSFT" });
    expect(view.knows("MSFT")).toBe(false);
  });
});
