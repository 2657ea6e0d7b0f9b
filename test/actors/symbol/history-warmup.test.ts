import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lastMinuteBars, warmUpHistory } from "../../../actors/symbol/history-warmup.ts";
import { openEmbeddedLog } from "../../../log/embedded/index.ts";
import { isPlatformError, PlatformError } from "../../../messages/errors.ts";
import type { MarketBar } from "../../../messages/market.ts";
import { Topics } from "../../../messages/topics.ts";
import { MarketModel } from "../../../sources/market/simulator/market-model.ts";
import { SimulatorSource } from "../../../sources/market/simulator-source.ts";

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

test("a restarted node starts each symbol after its newest minute bar in the log; other symbols and bad records say nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "last-minute-bars-"));
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    const topic = Topics.marketBars("1m");
    await log.createTopic({ name: topic, partitions: 2 });
    const bar = (symbol: string, minute: number) => ({
      ...{ symbol, timeframe: "1m", start: minute * MINUTE, open: 1, high: 1, low: 1, close: 1 },
      ...{ volume: 1, source: "simulator" },
    });
    const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    await log.append([
      { topic, partition: 0, key: "AAPL", value: json(bar("AAPL", 7)) },
      { topic, partition: 0, key: "AAPL", value: json(bar("AAPL", 5)) },
      { topic, partition: 1, key: "MSFT", value: json(bar("MSFT", 3)) },
      { topic, partition: 1, key: "TSLA", value: json(bar("TSLA", 9)) },
      { topic, partition: 1, key: "MSFT", value: json({ symbol: "MSFT", start: "not a bar" }) },
      { topic, partition: 1, key: "MSFT", value: new Uint8Array([0xff]) },
    ]);
    const codec = {
      encode: async () => new Uint8Array(),
      decode: (bytes: Uint8Array) => {
        try {
          return JSON.parse(new TextDecoder().decode(bytes));
        } catch (cause) {
          throw new PlatformError("DECODE_FAILED", "not JSON", { cause });
        }
      },
    };
    const last = await lastMinuteBars(log, codec, ["AAPL", "MSFT"]);
    expect(last).toEqual(
      new Map([
        ["AAPL", 7 * MINUTE],
        ["MSFT", 3 * MINUTE],
      ]),
    );
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
