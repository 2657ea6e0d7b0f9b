import { describe, expect, test } from "bun:test";
import { MarketView } from "../../../api/markets/market-view.ts";
import { marketRoutes } from "../../../api/markets/routes.ts";
import type { MarketBar } from "../../../messages/market.ts";

const NOW = Date.UTC(2026, 2, 3, 12);
const bar = (start: number, close: number): MarketBar => ({
  symbol: "AAPL",
  timeframe: "1m",
  ...{ start, open: 10, high: 11, low: 9, close, volume: 100, source: "symbol-actor" },
});

describe("the market routes' shaping", () => {
  const view = new MarketView({ maxBars: 10, maxSymbols: 10 });
  view.bar(bar(NOW - 120_000, 10));
  view.bar(bar(NOW - 60_000, 12));
  const app = marketRoutes({ view, sources: () => [], now: () => NOW });

  test("fields= keeps those fields of each bar, beside the symbol and timeframe", async () => {
    const response = await app.request("/AAPL/bars?timeframe=1m&fields=start,close");
    expect(await response.json()).toEqual({
      symbol: "AAPL",
      timeframe: "1m",
      bars: [
        { start: NOW - 120_000, close: 10 },
        { start: NOW - 60_000, close: 12 },
      ],
    });
  });

  test("format=csv (or Accept: text/csv) answers the bars as CSV", async () => {
    for (const init of [
      { path: "/AAPL/bars?format=csv&fields=start,close" },
      { path: "/AAPL/bars?fields=start,close", accept: "text/csv" },
    ]) {
      const response = await app.request(init.path, { headers: init.accept ? { accept: init.accept } : {} });
      expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(await response.text()).toBe(`start,close\r\n${NOW - 120_000},10\r\n${NOW - 60_000},12\r\n`);
    }
  });

  test("a field list that is not one is a 400", async () => {
    const response = await app.request("/AAPL/bars?fields=a;b");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });
});
