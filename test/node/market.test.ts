import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Log } from "../../log/log.ts";
import type { IndicatorSnapshot, MarketBar } from "../../messages/market.ts";
import { Topics } from "../../messages/topics.ts";
import { warmUpWanted } from "../../node/market.ts";
import { startNode } from "../../node/start-node.ts";
import { SYMBOLS, startTestMarket } from "../sources/market/market-fixture.ts";
import { eventually, testNodeConfig } from "./node-fixture.ts";

/**
 * The market path of a whole node: the official SDK streams from the Alpaca-protocol simulator
 * (a market minute each wall second), the symbol actors build bars and indicators from the
 * trades, and the topics and the API serve them; without keys the node streams the in-process
 * simulator instead.
 */
const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

async function topicCount(log: Log, topic: string): Promise<number> {
  let total = 0;
  for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
    total += (await log.read({ topic, partition }, { fromOffset: 0, maxRecords: 100_000 })).length;
  return total;
}

const FAR = Date.now() + 365 * 86_400_000;

test("a node streams Alpaca (through the SDK) into trades, bars and indicators on the topics and the API", async () => {
  const market = startTestMarket({ speed: 60, tradesPerMinute: 30 });
  cleanup.push(() => market.sim.stop());
  const dataDir = mkdtempSync(join(tmpdir(), "market-node-"));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const node = await startNode(
    testNodeConfig(dataDir, {
      market: "on",
      marketSources: "alpaca,simulator",
      alpacaKeyId: "test-key-id",
      alpacaSecretKey: "test-secret-key",
      alpacaDataUrl: market.sim.url,
      alpacaStreamUrl: market.sim.streamUrl,
      marketSymbols: SYMBOLS.join(","),
      commitIntervalMs: 200,
    }),
  );
  cleanup.push(() => node.stop());
  const api = (path: string) => fetch(`${node.apiUrl}${path}`);

  const sources = (await (await api("/api/markets/sources")).json()) as {
    sources: { name: string; state: string }[];
  };
  expect(sources.sources.map((s) => [s.name, s.state])).toEqual([
    ["alpaca", "active"],
    ["simulator", "standby"],
  ]);
  const { bars } = await eventually(
    async () =>
      (await (await api(`/api/markets/AAPL/bars?timeframe=1m&from=0&to=${FAR}`)).json()) as {
        bars: MarketBar[];
      },
    (body) => (body.bars?.length ?? 0) >= 4,
    30_000,
  );
  // the first minute was joined midway; every whole minute after it is the market's bar exactly
  for (const bar of bars.slice(1)) {
    const expected = market.model.minuteBar("AAPL", bar.start)!;
    expect([bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trade_count]).toEqual([
      expected.open,
      expected.high,
      expected.low,
      expected.close,
      expected.volume,
      expected.tradeCount,
    ]);
  }
  const indicators = (await (
    await api(`/api/markets/AAPL/indicators?timeframe=1m&from=0&to=${FAR}`)
  ).json()) as {
    latest: IndicatorSnapshot;
  };
  expect(indicators.latest.symbol).toBe("AAPL");
  expect(indicators.latest.vwap).toBeGreaterThan(0);
  expect(await topicCount(node.log, Topics.marketTradesRaw)).toBeGreaterThan(50);
  expect(
    await eventually(
      () => topicCount(node.log, Topics.marketBars("1m")),
      (n) => n >= 3 * SYMBOLS.length,
    ),
  ).toBeGreaterThanOrEqual(3 * SYMBOLS.length);
  const health = (await (await api("/health")).json()) as { checks: Record<string, { ok: boolean }> };
  expect(health.checks.market?.ok).toBe(true);
  const metrics = await (await api("/metrics")).text();
  expect(metrics).toContain('platform_market_source_state{source="alpaca",state="active"} 1');

  for (const [path, status] of [
    ["/api/markets/aapl/bars", 400],
    ["/api/markets/AAPL/bars?timeframe=7x", 400],
    ["/api/markets/AAPL/bars?from=yesterday", 400],
    ["/api/markets/AAPL/bars?limit=0", 400],
    ["/api/markets/ZZZZ/bars", 404],
  ] as const) {
    const response = await api(path);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(typeof body.error.code).toBe("string");
  }
}, 90_000);

test("without keys a node streams the simulator and says why Alpaca is not used", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "market-node-"));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const node = await startNode(
    testNodeConfig(dataDir, { market: "on", marketSymbols: "AAPL,MSFT", marketSimTradesPerMinute: 600 }),
  );
  cleanup.push(() => node.stop());
  const sources = (await (await fetch(`${node.apiUrl}/api/markets/sources`)).json()) as {
    sources: { name: string; state: string; lastError?: { code: string } }[];
  };
  expect(sources.sources.map((s) => s.state)).toEqual(["unauthorized", "failed", "active"]);
  expect(sources.sources[0]!.lastError?.code).toBe("SOURCE_UNAUTHORIZED");
  expect(
    await eventually(
      () => topicCount(node.log, Topics.marketTradesRaw),
      (n) => n > 10,
    ),
  ).toBeGreaterThan(10);
}, 60_000);

const rooms: Array<[string, Record<string, unknown>, boolean]> = [
  ["every room it needs on", {}, true],
  ["the market model off", { marketModel: "off" }, false],
  ["the models room off", { models: "off" }, false],
  ["the feature store off", { features: "off" }, false],
  ["the lake off", { lake: "off" }, false],
  ["no warm-up minutes", { marketModelWarmupMinutes: 0 }, false],
];
for (const [name, overrides, wanted] of rooms) {
  test(`the warm-up runs ${wanted ? "" : "not "}with ${name}`, () => {
    const config = testNodeConfig("/tmp/unused", {
      market: "on",
      models: "on",
      features: "on",
      lake: "on",
      ...overrides,
    });
    expect(warmUpWanted(config)).toBe(wanted);
  });
}
