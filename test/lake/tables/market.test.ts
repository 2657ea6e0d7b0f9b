import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MARKET_TABLES } from "../../../lake/tables/market.ts";
import { openLakeTables } from "../../../lake/tables/open-lake-tables.ts";
import type { LogRecord } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import type { IndicatorSnapshot, MarketBar } from "../../../messages/market.ts";
import { deltaRsRows, plainRow } from "../../../testkit/lake-audit.ts";

/**
 * The market room's lake tables: bars and indicators become rows with their identities, bad
 * records are refused with a reason (the sink dead-letters them), and delta-rs reads what the
 * tables hold. (The node test checks the other rooms' tables against the log; the market streams
 * without pause, so its tables are checked here.)
 */
const dir = mkdtempSync(join(tmpdir(), "lake-market-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const [bars, indicators] = MARKET_TABLES as [(typeof MARKET_TABLES)[number], (typeof MARKET_TABLES)[number]];
const record = {
  topic: "market.bars.1m",
  partition: 0,
  offset: 7,
  key: "AAPL",
  timestamp: 0,
  headers: [],
} as unknown as LogRecord;
const T = Date.parse("2026-11-30T14:31:00Z");
const bar: MarketBar = {
  symbol: "AAPL",
  timeframe: "1m",
  start: T,
  open: 190,
  high: 191,
  low: 189.5,
  close: 190.5,
  volume: 12_000,
  vwap: 190.2,
  trade_count: 120,
  source: "simulator",
};
const snapshot: IndicatorSnapshot = {
  symbol: "AAPL",
  timeframe: "1m",
  bar_start: T,
  close: 190.5,
  sma_20: 190.1,
  ema_12: null,
  ema_26: null,
  rsi_14: 55,
  macd: null,
  macd_signal: null,
  macd_histogram: null,
  bollinger_upper: 191,
  bollinger_middle: 190.1,
  bollinger_lower: 189.2,
  vwap: 190.2,
};

describe("the market tables", () => {
  test("a bar and an indicator snapshot become rows that delta-rs reads back unchanged", async () => {
    const tables = await openLakeTables(dir, {}, MARKET_TABLES);
    const barRows = bars.toRows!(bar, record);
    const indicatorRows = indicators.toRows!(snapshot, record);
    expect(barRows[0]).toMatchObject({ bar_id: `AAPL/1m/${T}`, date: "2026-11-30" });
    await tables.get(bars.name)!.append(barRows);
    await tables.get(indicators.name)!.append(indicatorRows);
    for (const [table, rows] of [
      [bars, barRows],
      [indicators, indicatorRows],
    ] as const) {
      const read = await deltaRsRows(dir, table);
      expect(read.schema).toEqual(table.schema.map((f) => f.name));
      expect(read.rows.map((r) => plainRow(table, r))).toEqual(rows.map((r) => plainRow(table, r)));
    }
  });

  test("a revised bar is a row of its own beside the first emission; a repeat of a revision has its id", () => {
    const first = bars.toRows!(bar, record)[0]!;
    const revised = bars.toRows!({ ...bar, volume: 14_000, revision: 2 }, record)[0]!;
    expect([first.bar_id, first.revision]).toEqual([`AAPL/1m/${T}`, 0]);
    expect([revised.bar_id, revised.revision]).toEqual([`AAPL/1m/${T}/r2`, 2]);
    expect(bars.toRows!({ ...bar, volume: 14_000, revision: 2 }, record)[0]!.bar_id).toBe(revised.bar_id);
  });

  test("a bars table written before the revision column gains it, older rows reading null", async () => {
    const older = join(dir, "older");
    const before = { ...bars, schema: bars.schema.filter((f) => f.name !== "revision") };
    const { revision: _dropped, ...oldRow } = bars.toRows!(bar, record)[0]!;
    await (await openLakeTables(older, {}, [before])).get(bars.name)!.append([oldRow]);
    const reopened = (await openLakeTables(older, {}, [bars])).get(bars.name)!;
    await reopened.append(bars.toRows!({ ...bar, revision: 1 }, record));
    const read = await deltaRsRows(older, bars);
    expect(read.rows.map((r) => r.revision ?? null).sort()).toEqual([1, null]);
  });

  test.each([
    ["a bar whose high is below its low", { ...bar, high: 100, low: 200 }],
    ["a bar of an unknown timeframe", { ...bar, timeframe: "7m" }],
    ["a bar without a symbol", { ...bar, symbol: undefined }],
    ["null", null],
  ])("%s is refused with SCHEMA_VIOLATION and a reason", (_name, value) => {
    const refusal = (() => {
      try {
        bars.toRows!(value, record);
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(isPlatformError(refusal, ErrorCodes.SCHEMA_VIOLATION)).toBe(true);
    expect((refusal as Error).message).toContain("not a market bar");
  });
});
