import { z } from "zod";

/**
 * Market-data records on the log: trades, quotes and bars as a source delivered them
 * (`market.trades.raw`, `market.quotes.raw`, `market.bars.raw`, keyed by symbol), the bars the
 * symbol actors build (`market.bars.<timeframe>`), their indicators (`market.indicators`) and
 * anomalies (`market.anomalies`). Times are epoch milliseconds (UTC); `source` names the adapter
 * that delivered the record (alpaca, replay, simulator, backfill:<source>).
 */
export const SYMBOL_PATTERN = /^[A-Z][A-Z0-9.-]{0,15}$/;
const symbol = z.string().regex(SYMBOL_PATTERN, "symbol is 1-16 upper-case letters, digits, '.' or '-'");
const price = z.number().finite().positive();
const time = z.number().int().nonnegative();

/** Bar timeframes: the symbol actors build 1m, 5m and 1h; history also serves 15m and 1d. */
export const TIMEFRAMES = ["1m", "5m", "15m", "1h", "1d"] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];
/** the timeframes built from trades by the symbol actors */
export const LIVE_TIMEFRAMES = ["1m", "5m", "1h"] as const satisfies readonly Timeframe[];

export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "1d": 86_400_000,
};

/** Alpaca's timeframe strings (`1Min`, `5Min`, `15Min`, `1Hour`, `1Day`) and ours */
export const ALPACA_TIMEFRAME: Readonly<Record<Timeframe, string>> = {
  "1m": "1Min",
  "5m": "5Min",
  "15m": "15Min",
  "1h": "1Hour",
  "1d": "1Day",
};

/** `1Min`, `1min`, `1m`, `1T`... to ours; undefined for anything else */
export function timeframeOf(text: string): Timeframe | undefined {
  const match = /^(\d{1,2})(m|min|t|h|hour|d|day)$/i.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  const short = unit.startsWith("h") ? "h" : unit.startsWith("d") ? "d" : "m";
  const candidate = `${n}${short}`;
  return (TIMEFRAMES as readonly string[]).includes(candidate) ? (candidate as Timeframe) : undefined;
}

export const MarketTrade = z.object({
  symbol,
  price,
  size: z.number().finite().nonnegative(),
  timestamp: time,
  /** the trade id as the exchange gave it (a string: ids pass 2^53) */
  id: z.string().max(64).optional(),
  exchange: z.string().max(8).optional(),
  conditions: z.array(z.string().max(8)).max(16).optional(),
  tape: z.string().max(4).optional(),
  source: z.string().max(64),
});
export type MarketTrade = z.infer<typeof MarketTrade>;

export const MarketQuote = z.object({
  symbol,
  bid_price: z.number().finite().nonnegative(),
  bid_size: z.number().finite().nonnegative(),
  ask_price: z.number().finite().nonnegative(),
  ask_size: z.number().finite().nonnegative(),
  timestamp: time,
  source: z.string().max(64),
});
export type MarketQuote = z.infer<typeof MarketQuote>;

export const MarketBar = z
  .object({
    symbol,
    timeframe: z.enum(TIMEFRAMES),
    /** start of the bar (Alpaca's `t`) */
    start: time,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: z.number().finite().nonnegative(),
    vwap: z.number().finite().nonnegative().optional(),
    trade_count: z.number().int().nonnegative().optional(),
    source: z.string().max(64),
    /**
     * absent for a bar's first emission; 1, 2... when a late minute (a back-fill) changed a bar
     * already emitted: consumers keep the highest revision per symbol, timeframe and start
     */
    revision: z.number().int().positive().optional(),
  })
  .refine(
    (b) => b.high >= b.low && b.high >= Math.max(b.open, b.close) && b.low <= Math.min(b.open, b.close),
    {
      message: "high/low must bound open and close",
    },
  );
export type MarketBar = z.infer<typeof MarketBar>;

/** The indicators of one symbol and timeframe after a bar closed; null until warmed up. */
export const IndicatorSnapshot = z.object({
  symbol,
  timeframe: z.enum(TIMEFRAMES),
  bar_start: time,
  close: price,
  sma_20: z.number().nullable(),
  ema_12: z.number().nullable(),
  ema_26: z.number().nullable(),
  rsi_14: z.number().nullable(),
  macd: z.number().nullable(),
  macd_signal: z.number().nullable(),
  macd_histogram: z.number().nullable(),
  bollinger_upper: z.number().nullable(),
  bollinger_middle: z.number().nullable(),
  bollinger_lower: z.number().nullable(),
  /** the session's volume-weighted average price up to this bar */
  vwap: z.number().nullable(),
});
export type IndicatorSnapshot = z.infer<typeof IndicatorSnapshot>;

export const MarketAnomaly = z.object({
  symbol,
  timeframe: z.enum(TIMEFRAMES),
  kind: z.enum(["price_jump", "volume_spike"]),
  bar_start: time,
  /** the bar's log return (price_jump) or volume (volume_spike) */
  value: z.number(),
  /** how many robust standard deviations (price) or times the median (volume) it is */
  score: z.number(),
  threshold: z.number(),
});
export type MarketAnomaly = z.infer<typeof MarketAnomaly>;
