import { afterAll, describe, expect, test } from "bun:test";
import { Alpaca, marketData, type streaming } from "@alpacahq/alpaca-trade-api";
import { tradingDays } from "../../../../sources/market/calendar/nyse-calendar.ts";
import { SYMBOLS, startTestMarket, TEST_KEYS, type TestMarket, until } from "../market-fixture.ts";

/**
 * The official Alpaca SDK (v4), unchanged, against the simulator through its URL options: the
 * stream's `url` and the REST configuration's `basePath`.
 */
const markets: TestMarket[] = [];
afterAll(async () => {
  for (const m of markets) await m.sim.stop();
});
const market = (options: Parameters<typeof startTestMarket>[0] = {}) => {
  const m = startTestMarket(options);
  markets.push(m);
  return m;
};
const restApi = (m: TestMarket, keys = TEST_KEYS, retry: false | { maxRetries: number } = false) =>
  new marketData.StockApi(
    new marketData.Configuration({ ...keys, basePath: m.sim.url, ...(retry ? { retry } : {}) }),
  );

describe("the official SDK's stream against the simulator", () => {
  test("authenticates, subscribes, and receives trades, quotes and minute bars (msgpack frames)", async () => {
    const m = market({ speed: 60 });
    const stream = new Alpaca(TEST_KEYS).marketData.stockStream({ url: m.sim.streamUrl });
    const trades: streaming.StreamTrade[] = [];
    const quotes: streaming.StreamQuote[] = [];
    const bars: streaming.StreamBar[] = [];
    stream.onTrade((t) => trades.push(t));
    stream.onQuote((q) => quotes.push(q));
    stream.onBar((b) => bars.push(b));
    stream.onConnect(() => {
      stream.subscribeForTrades(["AAPL"]);
      stream.subscribeForQuotes(["AAPL"]);
      stream.subscribeForBars(["MSFT"]);
    });
    stream.connect();
    try {
      expect((await stream.whenAuthenticated()).authenticated).toBe(true);
      await until(
        () => trades.length > 10 && quotes.length > 2 && bars.length >= 2,
        15_000,
        "trades, quotes and bars",
      );
      expect(new Set(trades.map((t) => t.symbol))).toEqual(new Set(["AAPL"]));
      expect(new Set(bars.map((b) => b.symbol))).toEqual(new Set(["MSFT"]));
      for (const q of quotes) expect(q.askPrice).toBeGreaterThan(q.bidPrice);
      // each bar is the model's minute, exactly
      for (const bar of bars) {
        const expected = m.model.minuteBar("MSFT", bar.timestamp.getTime())!;
        expect([bar.open, bar.high, bar.low, bar.close, bar.volume]).toEqual([
          expected.open,
          expected.high,
          expected.low,
          expected.close,
          expected.volume,
        ]);
      }
      expect(stream.getSubscriptions().trades).toEqual(["AAPL"]);
    } finally {
      stream.disconnect();
    }
  }, 30_000);

  test("is refused with 402 for wrong keys, and the SDK does not retry", async () => {
    const m = market();
    const stream = new Alpaca({ keyId: "wrong", secret: "keys" }).marketData.stockStream({
      url: m.sim.streamUrl,
    });
    stream.connect();
    const result = await stream.whenAuthenticated();
    expect(result).toMatchObject({ authenticated: false, status: "server_rejected", code: 402 });
    stream.disconnect();
  });

  test("a second connection with the same keys is refused with 406 (connection limit)", async () => {
    const m = market();
    const first = new Alpaca(TEST_KEYS).marketData.stockStream({ url: m.sim.streamUrl });
    first.connect();
    expect((await first.whenAuthenticated()).authenticated).toBe(true);
    const second = new Alpaca(TEST_KEYS).marketData.stockStream({ url: m.sim.streamUrl, reconnect: false });
    const errors: string[] = [];
    second.onError((e) => errors.push(String(e)));
    second.connect();
    await until(() => errors.some((e) => e.includes("connection limit")), 5000, "a 406");
    first.disconnect();
    second.disconnect();
  });
});

describe("the official SDK's REST bars against the simulator", () => {
  test("pages through a year of daily bars of several symbols with next_page_token", async () => {
    const m = market({ hours: "calendar" });
    const api = restApi(m);
    const bySymbol = new Map<string, number[]>();
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await api.stockBars({
        symbols: SYMBOLS.join(","),
        timeframe: "1Day",
        start: new Date("2024-01-01T00:00:00Z"),
        end: new Date("2024-12-31T23:59:59Z"),
        limit: 100,
        adjustment: "all",
        ...(pageToken ? { pageToken } : {}),
      });
      pages++;
      for (const [symbol, bars] of Object.entries(page.bars)) {
        const list = bySymbol.get(symbol) ?? [];
        for (const bar of bars) list.push(Date.parse(String(bar.t)));
        bySymbol.set(symbol, list);
      }
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    const days = tradingDays("2024-01-01", "2024-12-31").length;
    expect(pages).toBe(Math.ceil((days * SYMBOLS.length) / 100));
    for (const symbol of SYMBOLS) {
      const times = bySymbol.get(symbol)!;
      expect(times).toHaveLength(days);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    }
  });

  test("the single-symbol endpoint returns the same minute bars the stream's model has", async () => {
    const m = market({ hours: "calendar" });
    const response = await restApi(m).stockBarSingle({
      symbol: "AAPL",
      timeframe: "1Min",
      start: new Date("2024-07-03T13:30:00Z"),
      end: new Date("2024-07-03T18:00:00Z"),
      limit: 10_000,
    });
    // July 3, 2024 is a half day: 9:30 to 13:00 New York time, 210 minutes
    expect(response.bars).toHaveLength(210);
    const first = m.model.minuteBar("AAPL", Date.parse("2024-07-03T13:30:00Z"))!;
    expect(response.bars[0]!.o).toBe(first.open);
    expect(response.bars[0]!.c).toBe(first.close);
  });

  test.each([
    { name: "an unknown timeframe", params: { timeframe: "7Weeks" }, status: 422 },
    { name: "a bad adjustment", params: { timeframe: "1Day", adjustment: "magic" }, status: 422 },
    { name: "a limit over 10,000", params: { timeframe: "1Day", limit: "10001" }, status: 422 },
    {
      name: "a forged page token",
      params: { timeframe: "1Day", page_token: "bm90LWEtdG9rZW4" },
      status: 422,
    },
    { name: "a malformed start", params: { timeframe: "1Day", start: "yesterday" }, status: 422 },
  ])("answers $status with a message for $name", async ({ params, status }) => {
    const m = market();
    const url = new URL(`${m.sim.url}/v2/stocks/bars`);
    url.searchParams.set("symbols", "AAPL");
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const response = await fetch(url, {
      headers: { "APCA-API-KEY-ID": TEST_KEYS.keyId, "APCA-API-SECRET-KEY": TEST_KEYS.secret },
    });
    expect(response.status).toBe(status);
    expect(typeof ((await response.json()) as { message: unknown }).message).toBe("string");
  });

  test("past the rate limit the SDK sees 429 with the X-RateLimit headers", async () => {
    const m = market({ rateLimit: { maxRequests: 2, intervalMs: 60_000 } });
    const api = restApi(m);
    const ask = () => api.stockBarsRaw({ symbols: "AAPL", timeframe: "1Day", start: new Date("2024-01-02") });
    await ask();
    await ask();
    const error = (await ask().catch((e: unknown) => e)) as { response?: Response };
    expect(error.response?.status).toBe(429);
    expect(error.response?.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(error.response?.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("wrong keys get 403 and missing keys 401", async () => {
    const m = market();
    const wrong = (await restApi(m, { keyId: "no", secret: "pe" })
      .stockBars({ symbols: "AAPL", timeframe: "1Day" })
      .catch((e: unknown) => e)) as { response?: Response };
    expect(wrong.response?.status).toBe(403);
    const none = await fetch(`${m.sim.url}/v2/stocks/bars?symbols=AAPL&timeframe=1Day`);
    expect(none.status).toBe(401);
  });
});
