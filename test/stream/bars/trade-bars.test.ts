import { describe, expect, test } from "bun:test";
import { addTrade, closeUntil, tradeBarsInit } from "../../../stream/bars/trade-bars.ts";

const T0 = Date.parse("2024-01-10T14:00:00Z");
const trade = (secondsIn: number, price: number, size = 10) => ({
  price,
  size,
  timestamp: T0 + secondsIn * 1000,
});

describe("bars from trades in event time", () => {
  test("a minute's trades make one OHLCV bar, closed when event time passes its end plus the lateness", () => {
    const state = tradeBarsInit("1m", 60_000);
    expect(addTrade(state, trade(1, 10), 2000)).toEqual([]);
    addTrade(state, trade(20, 12, 30), 2000);
    addTrade(state, trade(40, 9), 2000);
    addTrade(state, trade(59, 11), 2000);
    expect(addTrade(state, trade(61, 11.5), 2000)).toEqual([]); // within the lateness
    const closed = addTrade(state, trade(62, 11.4), 2000);
    expect(closed).toEqual([
      {
        start: T0,
        open: 10,
        high: 12,
        low: 9,
        close: 11,
        volume: 60,
        vwap: (100 + 360 + 90 + 110) / 60,
        tradeCount: 4,
      },
    ]);
  });

  test("an out-of-order trade inside the lateness joins its bar and sets open or close by time", () => {
    const state = tradeBarsInit("1m", 60_000);
    addTrade(state, trade(30, 10), 5000);
    addTrade(state, trade(61, 20), 5000);
    addTrade(state, trade(5, 8), 5000); // earlier than the first: it is the open
    const [bar] = addTrade(state, trade(66, 21), 5000);
    expect(bar).toMatchObject({ open: 8, close: 10, low: 8, high: 10, tradeCount: 2 });
  });

  test("a trade for a bar that already closed is late, counted and not merged", () => {
    const state = tradeBarsInit("1m", 60_000);
    addTrade(state, trade(10, 10), 0);
    addTrade(state, trade(70, 10), 0);
    expect(addTrade(state, trade(20, 99), 0)).toEqual([]);
    expect(state.late).toBe(1);
    expect(closeUntil(state, T0 + 120_000)[0]).toMatchObject({ high: 10, tradeCount: 1 });
  });

  test.each([
    { tf: "5m", ms: 300_000, trades: [0, 100, 299], bars: 1 },
    { tf: "5m", ms: 300_000, trades: [0, 100, 300], bars: 2 },
    { tf: "1h", ms: 3_600_000, trades: [0, 1800, 3599], bars: 1 },
  ] as const)(
    "$tf bars align to the epoch: trades at $trades seconds make $bars bar(s)",
    ({ tf, ms, trades, bars }) => {
      const state = tradeBarsInit(tf, ms);
      let closed = 0;
      for (const s of trades) closed += addTrade(state, trade(s, 10), 0).length;
      closed += closeUntil(state, T0 + 10 * ms).length;
      expect(closed).toBe(bars);
    },
  );
});
