import { expect, test } from "bun:test";
import { DirectionForecasts } from "../../../actors/model-shard/direction-forecasts.ts";
import type { Outcome } from "../../../actors/model-shard/model-serving.ts";
import type { IndicatorSnapshot } from "../../../messages/market.ts";
import type { ModelOutcome } from "../../../messages/prediction.ts";

/**
 * The market model's live loop over closed minutes: a consecutive minute labels the forecast
 * made before it, every minute is the input of the next forecast, forecasts of a batch go before
 * its labels, and the labelled outcomes are stored and counted per version.
 */
const MINUTE = 60_000;
const minute = (symbol: string, n: number, close: number, timeframe = "1m"): IndicatorSnapshot => ({
  symbol,
  timeframe: timeframe as IndicatorSnapshot["timeframe"],
  bar_start: n * MINUTE,
  close,
  ...{ sma_20: null, ema_12: null, ema_26: null, rsi_14: null, macd: null, macd_signal: null },
  ...{
    macd_histogram: null,
    bollinger_upper: null,
    bollinger_middle: null,
    bollinger_lower: null,
    vwap: null,
  },
});

function bench(options: { served?: boolean; predictFails?: boolean; storeFails?: boolean } = {}) {
  const steps: string[] = [];
  const stored: ModelOutcome[] = [];
  const errors: unknown[] = [];
  let listener: ((outcome: Outcome) => void) | undefined;
  let versions = ["1"];
  const forecasts = new DirectionForecasts({
    serving: {
      policyOf: () => (options.served === false ? undefined : ({ kind: "single", version: "1" } as never)),
      predict: async (_model, body) => {
        const rows = (body as { rows: { key: string; at: number }[] }).rows;
        steps.push(`predict ${rows.map((r) => `${r.key}@${r.at / MINUTE}`).join(",")}`);
        if (options.predictFails) throw new Error("swapping");
        return {} as never;
      },
      settled: async () => {},
      label: (_model, key, at, actual) => {
        steps.push(`label ${key}@${at / MINUTE}=${actual}`);
        listener?.({
          model: "market-direction",
          key,
          at,
          actual,
          served: "1",
          arm: "1",
          values: new Map([["1", actual === 1 ? 0.8 : 0.3]]),
        } as Outcome);
        return true;
      },
      onOutcome: (l) => {
        listener = l;
      },
      statsOf: () => new Map(versions.map((v) => [v, {} as never])),
    },
    storeOutcomes: async (outcomes) => {
      if (options.storeFails) throw new Error("log down");
      stored.push(...outcomes);
    },
    onError: (error) => errors.push(error),
    now: () => 42,
    batchDelayMs: 0,
  });
  return { forecasts, steps, stored, errors, retire: (v: string[]) => (versions = v) };
}

test("a consecutive minute labels the last forecast (up or not) after the batch's forecasts", async () => {
  const b = bench();
  b.forecasts.observe(minute("AAPL", 1, 100));
  b.forecasts.observe(minute("MSFT", 1, 50));
  await b.forecasts.stop();
  b.forecasts.observe(minute("AAPL", 2, 101));
  b.forecasts.observe(minute("MSFT", 2, 49));
  await b.forecasts.stop();
  expect(b.steps).toEqual([
    "predict AAPL@2,MSFT@2",
    "predict AAPL@3,MSFT@3",
    "label AAPL@2=1",
    "label MSFT@2=0",
  ]);
  expect(b.stored.map((o) => [o.key, o.actual, o.served_version, o.labelled_at])).toEqual([
    ["AAPL", 1, "1", 42],
    ["MSFT", 0, "1", 42],
  ]);
  expect(b.forecasts.liveClassification().get("1")?.snapshot().outcomes).toBe(2);
});

test.each<[string, readonly IndicatorSnapshot[], readonly string[]]>([
  ["a gap of a minute labels nothing", [minute("A", 1, 1), minute("A", 3, 2)], ["predict A@2,A@4"]],
  [
    "a revised or replayed minute is neither label nor input",
    [minute("A", 2, 1), minute("A", 2, 3), minute("A", 1, 3)],
    ["predict A@3"],
  ],
  ["another timeframe is not this model's", [minute("A", 1, 1, "5m")], []],
])("%s", async (_name, minutes, steps) => {
  const b = bench();
  for (const m of minutes) b.forecasts.observe(m);
  await b.forecasts.stop();
  expect(b.steps).toEqual([...steps]);
});

test("with no version served nothing is forecast, but the minute is remembered for the next label", async () => {
  const b = bench({ served: false });
  b.forecasts.observe(minute("A", 1, 1));
  await b.forecasts.stop();
  expect(b.steps).toEqual([]);
});

test("a failing forecast is counted per row and said; the labels still go in", async () => {
  const b = bench({ predictFails: true });
  b.forecasts.observe(minute("A", 1, 1));
  b.forecasts.observe(minute("B", 1, 1));
  await b.forecasts.stop();
  expect(b.forecasts.failures()).toBe(2);
  expect(b.errors).toHaveLength(1);
});

test("a log that is down loses only the outcomes' record, not the live figures", async () => {
  const b = bench({ storeFails: true });
  b.forecasts.observe(minute("A", 1, 1));
  await b.forecasts.stop();
  b.forecasts.observe(minute("A", 2, 2));
  await b.forecasts.stop();
  expect(b.errors.map((e) => (e as Error).message)).toEqual(["log down"]);
  expect(b.forecasts.liveClassification().get("1")?.snapshot().outcomes).toBe(1);
});

test("a version no longer served keeps no figures", async () => {
  const b = bench();
  b.forecasts.observe(minute("A", 1, 1));
  await b.forecasts.stop();
  b.forecasts.observe(minute("A", 2, 2));
  await b.forecasts.stop();
  b.retire(["2"]);
  b.forecasts.forgetUnserved();
  expect([...b.forecasts.liveClassification().keys()]).toEqual([]);
});

// the last minute of at most 10,000 symbols is kept: a new symbol past that forgets the symbol
// seen least recently (a minute renews its symbol), whose next minute then labels nothing
test("past 10,000 symbols the one seen least recently is forgotten and its next minute labels nothing", async () => {
  const b = bench();
  b.forecasts.observe(minute("A", 1, 1));
  b.forecasts.observe(minute("B", 1, 1));
  b.forecasts.observe(minute("A", 2, 2));
  for (let k = 0; k < 9_999; k++) b.forecasts.observe(minute(`S${k}`, 1, 1));
  await b.forecasts.stop();
  b.forecasts.observe(minute("A", 3, 1));
  b.forecasts.observe(minute("B", 2, 2));
  await b.forecasts.stop();
  expect(b.steps.filter((step) => step.startsWith("label"))).toEqual(["label A@2=1", "label A@3=0"]);
});
