import { afterEach, describe, expect, test } from "bun:test";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import type { MarketBar } from "../../../messages/market.ts";
import { AlpacaSource } from "../../../sources/market/alpaca/alpaca-source.ts";
import type { MarketDataSource } from "../../../sources/market/market-data-source.ts";
import { SimulatorSource } from "../../../sources/market/simulator-source.ts";
import { type ChainEvents, MarketSourceChain } from "../../../sources/market/source-chain.ts";
import { SYMBOLS, startTestMarket, TEST_KEYS, type TestMarket, until } from "./market-fixture.ts";

/**
 * The fallback chain with real parts: the official SDK against the protocol-speaking simulator
 * (whose faults the test drives) and the in-process simulator of the same market, on a clock 60
 * times the wall's so minutes pass in seconds.
 */
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function recorder() {
  const bars: MarketBar[] = [];
  const handovers: { from: string | undefined; to: string; reason: string }[] = [];
  let trades = 0;
  const events: ChainEvents = {
    trade: () => trades++,
    quote: () => {},
    bar: (bar) => bars.push(bar),
    handover: (change) => handovers.push(change),
    onError: () => {},
  };
  return { events, bars, handovers, trades: () => trades };
}

function alpacaOn(m: TestMarket, keys: { keyId?: string; secret?: string } = TEST_KEYS) {
  return new AlpacaSource({
    ...keys,
    dataUrl: m.sim.url,
    streamUrl: m.sim.streamUrl,
    connectTimeoutMs: 3000,
    reconnectGraceMs: 400,
    maxRetries: 0,
    now: m.now,
  });
}

function startChain(m: TestMarket, sources: MarketDataSource[], events: ChainEvents, failbackEveryMs = 300) {
  const chain = new MarketSourceChain({ sources, symbols: SYMBOLS, events, failbackEveryMs, now: m.now });
  cleanup.push(() => chain.stop());
  return chain;
}

function market(options: Parameters<typeof startTestMarket>[0] = {}) {
  const m = startTestMarket({ speed: 60, ...options });
  cleanup.push(() => m.sim.stop());
  return m;
}

/** every minute from the first bar to the last, for each symbol, is there */
function missingMinutes(bars: readonly MarketBar[], symbol: string): number[] {
  const starts = [...new Set(bars.filter((b) => b.symbol === symbol).map((b) => b.start))].sort(
    (a, b) => a - b,
  );
  const missing: number[] = [];
  for (let t = starts[0]!; t <= starts.at(-1)!; t += 60_000) if (!starts.includes(t)) missing.push(t);
  return missing;
}

describe("the market-data fallback chain", () => {
  test("a source without keys hands over at once and is never retried; its error names no secret", async () => {
    const m = market();
    const r = recorder();
    const chain = startChain(
      m,
      [alpacaOn(m, {}), new SimulatorSource(m.model, { now: m.now, tickMs: 20 })],
      r.events,
    );
    await chain.start();
    expect(chain.activeSource()).toBe("simulator");
    const alpaca = chain.health()[0]!;
    expect(alpaca.state).toBe("unauthorized");
    expect(alpaca.lastError?.code).toBe(ErrorCodes.SOURCE_UNAUTHORIZED);
    await until(() => r.trades() > 20, 10_000, "simulated trades");
    await Bun.sleep(700); // two fail-back rounds: the keyless source stays out
    expect(chain.activeSource()).toBe("simulator");
    expect(r.handovers).toHaveLength(1);
    expect(r.handovers[0]).toMatchObject({ to: "simulator", reason: "start" });
  }, 30_000);

  test("keys the server refuses are SOURCE_UNAUTHORIZED and do not leak into the message", async () => {
    const m = market();
    const source = alpacaOn(m, { keyId: "AKSECRETISH", secret: "very-secret-value" });
    const error = await source.stream(SYMBOLS, recorder().events as never).catch((e: unknown) => e);
    expect(isPlatformError(error, ErrorCodes.SOURCE_UNAUTHORIZED)).toBe(true);
    expect(String((error as Error).message)).not.toContain("very-secret-value");
    expect(String((error as Error).message)).not.toContain("AKSECRETISH");
  });

  test("a source that is down hands over; when it is back the chain fails back and no minute is missing", async () => {
    const m = market();
    m.sim.faults.setDown(true);
    const r = recorder();
    const chain = startChain(
      m,
      [alpacaOn(m), new SimulatorSource(m.model, { now: m.now, tickMs: 20 })],
      r.events,
    );
    await chain.start();
    expect(chain.activeSource()).toBe("simulator");
    expect(chain.health()[0]!.state).toBe("failed");
    await until(() => r.bars.filter((b) => b.symbol === "AAPL").length >= 2, 15_000, "simulator minute bars");
    m.sim.faults.setDown(false);
    await until(() => chain.activeSource() === "alpaca", 10_000, "the fail-back");
    expect(r.handovers.at(-1)).toMatchObject({ from: "simulator", to: "alpaca", reason: "fail-back" });
    await until(
      () => r.bars.filter((b) => b.symbol === "AAPL" && b.source === "alpaca").length >= 2,
      15_000,
      "alpaca bars",
    );
    for (const symbol of SYMBOLS) expect(missingMinutes(r.bars, symbol)).toEqual([]);
  }, 60_000);

  test("a stream lost for longer than its grace hands over, and the gap is back-filled from history", async () => {
    const m = market();
    const r = recorder();
    const chain = startChain(
      m,
      [alpacaOn(m), new SimulatorSource(m.model, { now: m.now, tickMs: 20 })],
      r.events,
      60_000, // no fail-back during this test
    );
    await chain.start();
    expect(chain.activeSource()).toBe("alpaca");
    await until(() => r.bars.filter((b) => b.symbol === "MSFT").length >= 2, 15_000, "alpaca bars");
    m.sim.faults.setDown(true);
    m.sim.faults.dropConnections();
    await until(() => chain.activeSource() === "simulator", 10_000, "the hand-over");
    expect(chain.health()[0]).toMatchObject({
      state: "failed",
      lastError: { code: ErrorCodes.SOURCE_UNAVAILABLE },
    });
    await Bun.sleep(2500); // minutes pass on the simulator
    m.sim.faults.setDown(false);
    await until(
      () => r.bars.filter((b) => b.symbol === "MSFT" && b.source === "simulator").length >= 2,
      15_000,
      "bars",
    );
    for (const symbol of SYMBOLS) expect(missingMinutes(r.bars, symbol)).toEqual([]);
    // the stale feed said nothing after the hand-over
    const handoverAt = r.bars.findIndex((b) => b.source === "simulator");
    expect(r.bars.slice(handoverAt).some((b) => b.source === "alpaca")).toBe(false);
  }, 60_000);

  test("history past the rate limit is SOURCE_RATE_LIMITED; the next source has the same hour whole", async () => {
    const m = market({ rateLimit: { maxRequests: 1, intervalMs: 60_000 } });
    const alpaca = alpacaOn(m);
    const to = m.now() - (m.now() % 60_000);
    const request = { symbols: ["AAPL"], timeframe: "1m" as const, from: to - 3_600_000, to, pageSize: 100 };
    for await (const page of alpaca.history(request)) expect(page.length).toBeGreaterThan(0);
    const error = await (async () => {
      for await (const _ of alpaca.history(request)) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(isPlatformError(error, ErrorCodes.SOURCE_RATE_LIMITED)).toBe(true);
    const sim = new SimulatorSource(m.model, { now: m.now });
    let fromSimulator = 0;
    for await (const page of sim.history(request)) fromSimulator += page.length;
    expect(fromSimulator).toBe(60);
  }, 30_000);

  test("a chain started with the last minutes from before a restart back-fills every minute since", async () => {
    const m = market();
    const r = recorder();
    const minute = m.now() - (m.now() % 60_000);
    const lastMinutes = new Map(SYMBOLS.map((symbol) => [symbol, minute - 10 * 60_000]));
    const chain = new MarketSourceChain({
      sources: [alpacaOn(m)],
      symbols: SYMBOLS,
      events: r.events,
      failbackEveryMs: 60_000,
      lastMinutes,
      now: m.now,
    });
    cleanup.push(() => chain.stop());
    await chain.start();
    for (const symbol of SYMBOLS) {
      const filled = r.bars
        .filter((b) => b.symbol === symbol && b.source === "backfill:alpaca")
        .map((b) => b.start);
      expect(filled.slice(0, 9)).toEqual(Array.from({ length: 9 }, (_, i) => minute - (9 - i) * 60_000));
    }
  }, 30_000);
});
