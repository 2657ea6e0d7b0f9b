import type { LogRecord } from "../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { IndicatorSnapshot, MarketBar, TIMEFRAMES } from "../../messages/market.ts";
import { Topics } from "../../messages/topics.ts";
import { column, type LakeTable, utcDate } from "./lake-table.ts";

/**
 * The market room's tables: bars (silver: validated, one row per symbol, timeframe and bar start,
 * from the symbol actors and from back-fills) and the indicators computed when each bar closed
 * (gold). A bar's row id is its symbol, timeframe, start and revision: a repeat of the same
 * revision is written once, and a revision (a late back-filled minute changed a bar already
 * emitted, see stream/bars/minute-rollup.ts) is a row of its own; a reader keeps the highest
 * revision per symbol, timeframe and start.
 */
function refused(what: string, issue: { path: PropertyKey[]; message: string } | undefined): never {
  throw new PlatformError(
    ErrorCodes.SCHEMA_VIOLATION,
    `not ${what}: ${issue?.path.map(String).join(".")} ${issue?.message}`,
  );
}

function barRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = MarketBar.safeParse(value);
  if (!parsed.success) return refused("a market bar", parsed.error.issues[0]);
  const b = parsed.data;
  return [
    {
      // a revision is a row of its own (the first written of each revision stays)
      bar_id: `${b.symbol}/${b.timeframe}/${b.start}${b.revision ? `/r${b.revision}` : ""}`,
      symbol: b.symbol,
      timeframe: b.timeframe,
      start: b.start,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      vwap: b.vwap ?? null,
      trade_count: b.trade_count ?? null,
      source: b.source,
      revision: b.revision ?? 0,
      date: utcDate(b.start),
    },
  ];
}

function indicatorRows(value: unknown, _record: LogRecord): Record<string, unknown>[] {
  const parsed = IndicatorSnapshot.safeParse(value);
  if (!parsed.success) return refused("an indicator snapshot", parsed.error.issues[0]);
  const i = parsed.data;
  return [{ indicator_id: `${i.symbol}/${i.timeframe}/${i.bar_start}`, ...i, date: utcDate(i.bar_start) }];
}

const INDICATORS = [
  "sma_20",
  "ema_12",
  "ema_26",
  "rsi_14",
  "macd",
  "macd_signal",
  "macd_histogram",
  "bollinger_upper",
  "bollinger_middle",
  "bollinger_lower",
  "vwap",
] as const;

export const MARKET_TABLES: readonly LakeTable[] = [
  {
    name: "silver_market_bars",
    layer: "silver",
    room: "market",
    description: "OHLCV bars per symbol and timeframe, live (symbol actors) and back-filled",
    topics: TIMEFRAMES.map((tf) => Topics.marketBars(tf)),
    schema: [
      column("bar_id", "string", false),
      column("symbol", "string", false),
      column("timeframe", "string", false),
      column("start", "timestamp", false),
      column("open", "double", false),
      column("high", "double", false),
      column("low", "double", false),
      column("close", "double", false),
      column("volume", "double", false),
      column("vwap", "double"),
      column("trade_count", "long"),
      column("source", "string", false),
      column("date", "date", false),
      // added after the first tables were written (schema evolution: null there, read as 0)
      column("revision", "long"),
    ],
    partitionColumns: ["date"],
    rowId: "bar_id",
    toRows: barRows,
  },
  {
    name: "gold_market_indicators",
    layer: "gold",
    room: "market",
    description:
      "technical indicators (SMA, EMA, RSI, MACD, Bollinger, VWAP) per symbol when each bar closed",
    topics: [Topics.marketIndicators],
    schema: [
      column("indicator_id", "string", false),
      column("symbol", "string", false),
      column("timeframe", "string", false),
      column("bar_start", "timestamp", false),
      column("close", "double", false),
      ...INDICATORS.map((name) => column(name, "double")),
      column("date", "date", false),
    ],
    partitionColumns: ["date"],
    rowId: "indicator_id",
    toRows: indicatorRows,
  },
];
