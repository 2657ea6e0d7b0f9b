import {
  type AlpacaSimulator,
  startAlpacaSimulator,
} from "../../../sources/market/alpaca-protocol/simulator-server.ts";
import { MarketModel } from "../../../sources/market/simulator/market-model.ts";

/**
 * A simulated market for tests: the Alpaca-protocol server on a loopback port, around the clock,
 * on a clock that runs `speed` times faster than the wall (60: a market minute each second), so
 * minute bars arrive within a test's time.
 */
export const TEST_KEYS = { keyId: "test-key-id", secret: "test-secret-key" };
export const SYMBOLS = ["AAPL", "MSFT", "NVDA"];

export interface TestMarket {
  readonly sim: AlpacaSimulator;
  readonly model: MarketModel;
  readonly now: () => number;
}

export function fastClock(speed: number, start = Date.now()): () => number {
  const wallStart = Date.now();
  return () => start + (Date.now() - wallStart) * speed;
}

export function startTestMarket(
  options: {
    speed?: number;
    hours?: "calendar" | "always";
    rateLimit?: { maxRequests: number; intervalMs: number };
    authTimeoutMs?: number;
    tradesPerMinute?: number;
    now?: () => number;
  } = {},
): TestMarket {
  const now = options.now ?? fastClock(options.speed ?? 1);
  const model = new MarketModel({
    seed: 7,
    hours: options.hours ?? "always",
    tradesPerMinute: options.tradesPerMinute ?? 20,
  });
  const sim = startAlpacaSimulator({
    model,
    symbols: SYMBOLS,
    credentials: TEST_KEYS,
    now,
    tickMs: 20,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.authTimeoutMs ? { authTimeoutMs: options.authTimeoutMs } : {}),
  });
  return { sim, model, now };
}

/** resolves when `condition` holds, polling every 10 ms; fails after `timeoutMs` */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
