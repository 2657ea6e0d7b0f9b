import { describe, expect, test } from "bun:test";
import {
  type SymbolMessage,
  type SymbolState,
  symbolInputOf,
  symbolProps,
} from "../../../actors/symbol/symbol.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import type { IndicatorSnapshot, MarketBar } from "../../../messages/market.ts";
import { MarketModel } from "../../../sources/market/simulator/market-model.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";

const T0 = Date.parse("2024-01-10T15:00:00Z");

function harness(snapshots = new InMemorySnapshotStore()) {
  const bars: MarketBar[] = [];
  const indicators: IndicatorSnapshot[] = [];
  const states = new Map<string, SymbolState>();
  const system = createActorSystem({ name: "test", snapshots });
  system.register(
    symbolProps({
      onBar: (bar) => bars.push(bar),
      onIndicators: (s) => indicators.push(s),
      onAnomaly: () => {},
      onLate: () => {},
      onState: (key, state) => states.set(key, state),
      latenessMs: 0,
      idleCloseMs: 3_600_000,
      tickMs: 3_600_000,
      passivateAfterMs: 3_600_000,
      now: () => T0,
    }),
  );
  let offset = 0;
  const trade = (secondsIn: number, price: number, at = offset++): SymbolMessage => ({
    type: "trade",
    trade: { symbol: "AAPL", price, size: 10, timestamp: T0 + secondsIn * 1000, source: "test" },
    offset: at,
  });
  return { system, bars, indicators, states, trade, snapshots };
}

describe("the symbol actor", () => {
  test("builds 1m, 5m and 1h bars from trades and steps the indicators per closed bar", async () => {
    const h = harness();
    for (let s = 0; s < 3600 + 60; s += 30)
      h.system.tell("symbol", "AAPL", h.trade(s, 100 + (s % 120) / 100));
    await h.system.drain();
    const count = (tf: string) => h.bars.filter((b) => b.timeframe === tf).length;
    expect([count("1m"), count("5m"), count("1h")]).toEqual([60, 12, 1]);
    expect(h.bars.find((b) => b.timeframe === "1h")).toMatchObject({
      start: T0,
      trade_count: 120,
      volume: 1200,
    });
    expect(h.indicators.filter((s) => s.timeframe === "1m")).toHaveLength(60);
    expect(h.indicators.filter((s) => s.timeframe === "1m").at(-1)!.sma_20).not.toBeNull();
    await h.system.stop();
  });

  test("a trade replayed from the log (offset at or below the last applied) is not counted again", async () => {
    const h = harness();
    h.system.tell("symbol", "AAPL", h.trade(1, 100, 0));
    h.system.tell("symbol", "AAPL", h.trade(2, 101, 1));
    h.system.tell("symbol", "AAPL", h.trade(2, 101, 1)); // replayed
    h.system.tell("symbol", "AAPL", h.trade(61, 102, 2));
    await h.system.drain();
    expect(h.bars.find((b) => b.timeframe === "1m")).toMatchObject({ trade_count: 2, volume: 20 });
    await h.system.stop();
  });

  test("its checkpointed state restores a half-built bar, which closes whole after the restart", async () => {
    const first = harness();
    first.system.tell("symbol", "AAPL", first.trade(1, 100, 0));
    first.system.tell("symbol", "AAPL", first.trade(20, 105, 1));
    first.system.tell("symbol", "AAPL", { type: "checkpoint" });
    await first.system.drain();
    const saved = JSON.parse(JSON.stringify(first.states.get("AAPL")));
    await first.system.stop();

    const snapshots = new InMemorySnapshotStore();
    await snapshots.save("symbol/AAPL", saved);
    const second = harness(snapshots);
    second.system.tell("symbol", "AAPL", second.trade(20, 105, 1)); // replayed: skipped
    second.system.tell("symbol", "AAPL", second.trade(40, 99, 2));
    second.system.tell("symbol", "AAPL", second.trade(61, 101, 3));
    await second.system.drain();
    expect(second.bars.find((b) => b.timeframe === "1m")).toMatchObject({
      start: T0,
      open: 100,
      high: 105,
      low: 99,
      close: 99,
      trade_count: 3,
    });
    await second.system.stop();
  });
});

/**
 * A stream dropped for some minutes and back-filled from history, against the same market seen
 * without a break: the simulator's trades rebuild its history's minute bars exactly, so the
 * longer bars (newest revision of each) must be the same, whenever the back-fill arrives within
 * the allowed lateness.
 */
describe("the symbol actor with back-filled minutes", () => {
  const MINUTE = 60_000;
  const START = Date.parse("2024-01-10T14:00:00Z");
  const MINUTES = 150;
  const GAP = { from: 52, to: 71 }; // minute 52 is cut mid-way, 53..70 are missing
  const model = new MarketModel({ seed: 7, hours: "always", tradesPerMinute: 12 });

  async function run(steps: (feed: Feed) => Promise<void>, allowedLatenessMs?: number) {
    const bars: MarketBar[] = [];
    const late: string[] = [];
    let now = START;
    const system = createActorSystem({ name: "test", snapshots: new InMemorySnapshotStore() });
    system.register(
      symbolProps({
        onBar: (bar) => bars.push(bar),
        onIndicators: () => {},
        onAnomaly: () => {},
        onLate: (_symbol, tf) => late.push(tf),
        onState: () => {},
        latenessMs: 2000,
        ...(allowedLatenessMs === undefined ? {} : { allowedLatenessMs }),
        idleCloseMs: 5000,
        tickMs: 3_600_000,
        passivateAfterMs: 3_600_000,
        now: () => now,
      }),
    );
    let offset = 0;
    const feed: Feed = {
      trades(minute, part = "all") {
        // the actor's clock is the trades' own time: a trade and the clock move together
        const trades = model.trades("AAPL", START + minute * MINUTE);
        const half = Math.floor(trades.length / 2);
        const chosen =
          part === "all" ? trades : part === "first-half" ? trades.slice(0, half) : trades.slice(half);
        for (const t of chosen) {
          system.tell("symbol", "AAPL", {
            type: "trade",
            trade: { symbol: "AAPL", price: t.price, size: t.size, timestamp: t.timestamp, source: "test" },
            offset: offset++,
          });
        }
      },
      backfill(minute) {
        const b = model.minuteBar("AAPL", START + minute * MINUTE)!;
        system.tell("symbol", "AAPL", {
          type: "minute",
          bar: {
            symbol: "AAPL",
            timeframe: "1m",
            start: b.start,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
            vwap: b.vwap,
            trade_count: b.tradeCount,
            source: "backfill:alpaca",
          },
          offset: offset++,
        });
      },
      async quietUntil(minute) {
        // the feed is gone: processing time moves on (once the actor took what came before, so
        // its clock is the trades' while it takes them) and the actor closes what ended
        await system.drain();
        now = START + minute * MINUTE;
        system.tell("symbol", "AAPL", { type: "tick" });
        await system.drain();
      },
    };
    await steps(feed);
    await feed.quietUntil(MINUTES + 120);
    return { system, bars, late };
  }

  /** the newest revision of every bar of a timeframe, by start */
  function finalBars(bars: readonly MarketBar[], timeframe: string) {
    const newest = new Map<number, MarketBar>();
    for (const bar of bars.filter((b) => b.timeframe === timeframe)) {
      const held = newest.get(bar.start);
      if (!held || (bar.revision ?? 0) > (held.revision ?? 0)) newest.set(bar.start, bar);
    }
    return [...newest.values()]
      .sort((a, b) => a.start - b.start)
      .map(({ start, open, high, low, close, volume, trade_count, vwap }) => ({
        start,
        open,
        high,
        low,
        close,
        volume,
        trade_count,
        vwap: Math.round((vwap ?? 0) * 1000) / 1000,
      }));
  }

  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const untilGap = (feed: Feed) => {
    for (const m of range(0, GAP.from)) feed.trades(m);
    feed.trades(GAP.from, "first-half");
  };

  test.each([
    {
      name: "back-filled before the stream resumes, after the quiet symbol's bars closed by processing time",
      steps: async (feed: Feed) => {
        untilGap(feed);
        await feed.quietUntil(GAP.to - 2);
        for (const m of range(GAP.from, GAP.to)) feed.backfill(m);
        for (const m of range(GAP.to, MINUTES)) feed.trades(m);
      },
    },
    {
      name: "back-filled after the resumed stream closed the windows of the gap",
      steps: async (feed: Feed) => {
        untilGap(feed);
        await feed.quietUntil(GAP.to - 2);
        for (const m of range(GAP.to, GAP.to + 12)) feed.trades(m);
        for (const m of range(GAP.from, GAP.to)) feed.backfill(m);
        for (const m of range(GAP.to + 12, MINUTES)) feed.trades(m);
      },
    },
    {
      name: "back-filled at once, before any window of the gap closed",
      steps: async (feed: Feed) => {
        untilGap(feed);
        for (const m of range(GAP.from, GAP.to)) feed.backfill(m);
        for (const m of range(GAP.to, MINUTES)) feed.trades(m);
      },
    },
    {
      name: "back-filled when the late half of the cut minute came in anyway",
      steps: async (feed: Feed) => {
        untilGap(feed);
        for (const m of range(GAP.from, GAP.to)) feed.backfill(m);
        feed.trades(GAP.from, "second-half"); // late: the back-filled minute holds them
        for (const m of range(GAP.to, MINUTES)) feed.trades(m);
      },
    },
  ])("$name: the 1m, 5m and 1h bars equal those of an uninterrupted run", async ({ steps }) => {
    const whole = await run(async (feed) => {
      for (const m of range(0, MINUTES)) feed.trades(m);
    });
    const gapped = await run(steps);
    await Promise.all([whole.system.drain(), gapped.system.drain()]);
    for (const tf of ["1m", "5m", "1h"])
      expect(finalBars(gapped.bars, tf)).toEqual(finalBars(whole.bars, tf));
    expect(finalBars(whole.bars, "1h")).toHaveLength(3);
    await Promise.all([whole.system.stop(), gapped.system.stop()]);
  });

  test("a closed bar is re-emitted with the next revision, not changed in place", async () => {
    const gapped = await run(async (feed) => {
      untilGap(feed);
      await feed.quietUntil(GAP.to - 2);
      for (const m of range(GAP.to, GAP.to + 12)) feed.trades(m);
      for (const m of range(GAP.from, GAP.to)) feed.backfill(m);
    });
    await gapped.system.drain();
    const cutWindow = START + 50 * MINUTE; // the 5m window holding minute 52
    const emitted = gapped.bars.filter((b) => b.timeframe === "5m" && b.start === cutWindow);
    // one revision per back-filled minute of the window (52, 53, 54), as Flink fires per late element
    expect(emitted.map((b) => b.revision ?? 0)).toEqual([0, 1, 2, 3]);
    expect(emitted[1]!.volume).toBeGreaterThan(emitted[0]!.volume);
    const partialMinute = gapped.bars.filter(
      (b) => b.timeframe === "1m" && b.start === START + GAP.from * MINUTE,
    );
    expect(partialMinute.map((b) => [b.revision ?? 0, b.source])).toEqual([
      [0, "symbol-actor"],
      [1, "backfill:alpaca"],
    ]);
    await gapped.system.stop();
  });

  test("minutes back-filled later than the allowed lateness do not revise closed bars; they are counted late", async () => {
    const gapped = await run(async (feed) => {
      untilGap(feed);
      await feed.quietUntil(GAP.to - 2);
      for (const m of range(GAP.to, MINUTES)) feed.trades(m);
      for (const m of range(GAP.from, GAP.to)) feed.backfill(m);
    }, 10 * MINUTE);
    await gapped.system.drain();
    expect(gapped.bars.filter((b) => b.timeframe !== "1m" && (b.revision ?? 0) > 0)).toEqual([]);
    expect(gapped.late.length).toBeGreaterThan(0);
    await gapped.system.stop();
  });
});

interface Feed {
  trades(minute: number, part?: "all" | "first-half" | "second-half"): void;
  backfill(minute: number): void;
  quietUntil(minute: number): Promise<void>;
}

describe("the symbols' input records", () => {
  const minute = {
    symbol: "AAPL",
    timeframe: "1m",
    start: T0,
    open: 1,
    high: 2,
    low: 1,
    close: 2,
    volume: 10,
    source: "backfill:alpaca",
  };
  test.each([
    ["a trade is a trade", { symbol: "AAPL", price: 1, size: 1, timestamp: T0, source: "alpaca" }, "trade"],
    ["a back-filled minute bar is a minute", minute, "minute"],
    ["a bar of another timeframe is refused", { ...minute, timeframe: "5m" }, undefined],
    [
      "a minute bar that is no back-fill (an actor's output) is refused",
      { ...minute, source: "symbol-actor" },
      undefined,
    ],
    ["a bar whose high is below its low is refused", { ...minute, high: 0.5 }, undefined],
    ["anything else is refused", { hello: "world" }, undefined],
  ])("%s", (_name, value, type) => {
    let answer: unknown;
    try {
      answer = symbolInputOf(value, 7).type;
    } catch (error) {
      answer = isPlatformError(error, ErrorCodes.SCHEMA_VIOLATION) ? undefined : error;
    }
    expect(answer).toBe(type);
  });
});
