import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../../../log/index.ts";
import type { Log } from "../../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../../messages/errors.ts";
import type { MarketTrade } from "../../../../messages/market.ts";
import { Topics } from "../../../../messages/topics.ts";
import type { MarketEvents } from "../../../../sources/market/market-data-source.ts";
import { ReplaySource } from "../../../../sources/market/replay/replay-source.ts";

/** Replay streams what a provider delivered before, never the platform's own simulation. */
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const encoder = new TextEncoder();
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

async function logWith(trades: MarketTrade[]): Promise<Log> {
  const dir = mkdtempSync(join(tmpdir(), "replay-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => log.close());
  await log.createTopic({ name: Topics.marketTradesRaw, partitions: 2 });
  await log.append(
    trades.map((t) => ({
      topic: Topics.marketTradesRaw,
      key: t.symbol,
      value: encoder.encode(JSON.stringify(t)),
      timestamp: t.timestamp,
    })),
  );
  return log;
}

const trade = (source: string, i: number): MarketTrade => ({
  symbol: "AAPL",
  price: 100 + i,
  size: 10,
  timestamp: 1_700_000_000_000 + i * 10,
  source,
});

function recorder(): { events: MarketEvents; trades: MarketTrade[] } {
  const trades: MarketTrade[] = [];
  return {
    trades,
    events: {
      trade: (t) => trades.push(t),
      quote: () => {},
      bar: () => {},
      interrupted: () => {},
      resumed: () => {},
      failed: () => {},
    },
  };
}

test("replays the trades a provider delivered, moved to the present", async () => {
  const log = await logWith([trade("alpaca", 0), trade("alpaca", 1), trade("simulator", 2)]);
  const r = recorder();
  const feed = await new ReplaySource({ log, decode, tickMs: 5 }).stream(["AAPL"], r.events);
  cleanup.push(() => feed.stop());
  const deadline = Date.now() + 5_000;
  while (r.trades.length < 2 && Date.now() < deadline) await Bun.sleep(10);
  expect(r.trades.slice(0, 2).map((t) => [t.price, t.source])).toEqual([
    [100, "replay"],
    [101, "replay"],
  ]);
  expect(r.trades.some((t) => t.price === 102)).toBe(false);
});

test("the simulator's recorded trades (or a replay's) are nothing to replay (regression: a node without keys failed back from the simulation to a loop of its own recording)", async () => {
  const log = await logWith([0, 1, 2, 3].map((i) => trade(i % 2 === 0 ? "simulator" : "replay", i)));
  const refusal = await new ReplaySource({ log, decode }).stream(["AAPL"], recorder().events).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(isPlatformError(refusal, ErrorCodes.SOURCE_UNAVAILABLE)).toBe(true);
});
