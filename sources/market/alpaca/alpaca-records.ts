import type { marketData, streaming } from "@alpacahq/alpaca-trade-api";
import type { MarketBar, MarketQuote, MarketTrade, Timeframe } from "../../../messages/market.ts";

/**
 * Alpaca's records (the SDK's stream shapes and the REST compact bars) as the platform's. The
 * platform's validation happens at ingest (zod), so a hostile or broken source's fields pass
 * through here as they are and are judged there.
 */
export const tradeOfStream = (t: streaming.StreamTrade, source: string): MarketTrade => ({
  symbol: t.symbol,
  price: t.price,
  size: t.size,
  timestamp: t.timestamp.getTime(),
  ...(t.idRaw !== undefined ? { id: t.idRaw } : {}),
  ...(t.exchange !== undefined ? { exchange: t.exchange } : {}),
  ...(t.conditions.length > 0 ? { conditions: t.conditions } : {}),
  ...(t.tape !== undefined ? { tape: t.tape } : {}),
  source,
});

export const quoteOfStream = (q: streaming.StreamQuote, source: string): MarketQuote => ({
  symbol: q.symbol,
  bid_price: q.bidPrice,
  bid_size: q.bidSize,
  ask_price: q.askPrice,
  ask_size: q.askSize,
  timestamp: q.timestamp.getTime(),
  source,
});

export const barOfStream = (b: streaming.StreamBar, source: string): MarketBar => ({
  symbol: b.symbol,
  timeframe: "1m",
  start: b.timestamp.getTime(),
  open: b.open,
  high: b.high,
  low: b.low,
  close: b.close,
  volume: b.volume,
  ...(b.vwap !== undefined ? { vwap: b.vwap } : {}),
  ...(b.tradeCount !== undefined ? { trade_count: b.tradeCount } : {}),
  source,
});

/** a REST bar of the multi-symbol response (its map is deserialised verbatim: `t` may be text) */
export function barOfRest(
  symbol: string,
  timeframe: Timeframe,
  raw: marketData.StockBar,
  source: string,
): MarketBar {
  const t = raw.t as unknown;
  const start = t instanceof Date ? t.getTime() : Date.parse(String(t));
  return {
    symbol,
    timeframe,
    start,
    open: Number(raw.o),
    high: Number(raw.h),
    low: Number(raw.l),
    close: Number(raw.c),
    volume: Number(raw.v),
    ...(raw.vw !== undefined ? { vwap: Number(raw.vw) } : {}),
    ...(raw.n !== undefined ? { trade_count: Number(raw.n) } : {}),
    source,
  };
}
