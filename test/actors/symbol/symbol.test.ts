import { describe, expect, test } from "bun:test";
import { type SymbolMessage, type SymbolState, symbolProps } from "../../../actors/symbol/symbol.ts";
import type { IndicatorSnapshot, MarketBar } from "../../../messages/market.ts";
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
