import { expect, test } from "bun:test";
import { isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { MarketBar } from "../../messages/market.ts";
import { warmUpHistory, warmUpWanted } from "../../node/market-warmup.ts";
import { MarketModel } from "../../sources/market/simulator/market-model.ts";
import { SimulatorSource } from "../../sources/market/simulator-source.ts";
import { testNodeConfig } from "./node-fixture.ts";

/** The market model's warm-up: recent history for symbols the log has no bar of, from the first source that answers. */
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 3, 16, 30, 25);
const simulator = new SimulatorSource(new MarketModel({ seed: 3, hours: "always" }), { now: () => NOW });

const refusing = (name: string) => ({
  name,
  stream: () => Promise.reject(new PlatformError("SOURCE_UNAUTHORIZED", `${name}: no keys`)),
  history: (): AsyncIterable<MarketBar[]> => ({
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(new PlatformError("SOURCE_UNAUTHORIZED", `${name}: no keys`)),
    }),
  }),
});

test("symbols without a bar get the last minutes from the first source that answers, as back-filled bars", async () => {
  const bars: MarketBar[] = [];
  const known = NOW - 10 * MINUTE;
  const last = await warmUpHistory({
    sources: [refusing("alpaca"), simulator],
    symbols: ["AAPL", "MSFT", "NVDA"],
    lastMinutes: new Map([["MSFT", known]]),
    minutes: 30,
    now: NOW,
    bar: (bar) => bars.push(bar),
  });
  const firstMinute = NOW - (NOW % MINUTE) - 30 * MINUTE;
  for (const symbol of ["AAPL", "NVDA"]) {
    const own = bars.filter((b) => b.symbol === symbol);
    expect(own.map((b) => b.start)).toEqual(Array.from({ length: 30 }, (_, i) => firstMinute + i * MINUTE));
    expect(last.get(symbol)).toBe(firstMinute + 29 * MINUTE);
  }
  // MSFT has bars in the log: the chain's gap back-fill takes it from its last minute
  expect(bars.some((b) => b.symbol === "MSFT")).toBe(false);
  expect(last.get("MSFT")).toBe(known);
  expect(new Set(bars.map((b) => b.source))).toEqual(new Set(["backfill:simulator"]));
});

test("no source answering is SOURCE_UNAVAILABLE with each source's failure as the cause", async () => {
  const failed = await warmUpHistory({
    sources: [refusing("alpaca"), refusing("replay")],
    symbols: ["AAPL"],
    lastMinutes: new Map(),
    minutes: 5,
    now: NOW,
    bar: () => {},
  }).catch((error: unknown) => error);
  expect(isPlatformError(failed, "SOURCE_UNAVAILABLE")).toBe(true);
  expect(((failed as PlatformError).cause as AggregateError).errors).toHaveLength(2);
});

test("zero minutes, or every symbol known, asks no source", async () => {
  const asked: string[] = [];
  const counting = {
    ...refusing("counting"),
    history: () => {
      asked.push("history");
      return refusing("counting").history();
    },
  };
  for (const [minutes, lastMinutes] of [
    [0, new Map()],
    [30, new Map([["AAPL", NOW]])],
  ] as const) {
    const last = await warmUpHistory({
      sources: [counting],
      symbols: ["AAPL"],
      lastMinutes,
      minutes,
      now: NOW,
      bar: () => {},
    });
    expect(last).toEqual(new Map(lastMinutes));
  }
  expect(asked).toEqual([]);
});

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
