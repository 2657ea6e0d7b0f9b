import type { Timeframe } from "../../messages/market.ts";

/**
 * OHLCV bars from trades in event time, one open bar per bucket `[start, start + tf)` (aligned to
 * the epoch, as Alpaca aligns them). A bar closes once the event time seen passes its end plus
 * `latenessMs` (a bounded out-of-orderness watermark, per symbol), or when the caller closes it
 * by processing time (a symbol that stopped trading); a trade for a bucket that already closed
 * is late and counted, not merged. Plain data throughout, for the changelog.
 */
export interface BarAccumulator {
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  priceVolume: number;
  count: number;
  /** time of the trade that set `open` / `close` (out-of-order trades inside the bar) */
  firstAt: number;
  lastAt: number;
}

export interface TradeBarsState {
  readonly timeframe: Timeframe;
  readonly timeframeMs: number;
  /** open bars by start, at most a few (out-of-orderness) */
  open: BarAccumulator[];
  /** bars starting before this are closed */
  closedBefore: number;
  watermark: number;
  late: number;
}

export interface ClosedBar {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly vwap: number;
  readonly tradeCount: number;
}

export function tradeBarsInit(timeframe: Timeframe, timeframeMs: number): TradeBarsState {
  return {
    timeframe,
    timeframeMs,
    open: [],
    closedBefore: Number.NEGATIVE_INFINITY,
    watermark: Number.NEGATIVE_INFINITY,
    late: 0,
  };
}

/** adds a trade; answers the bars it closed (oldest first) */
export function addTrade(
  state: TradeBarsState,
  trade: { price: number; size: number; timestamp: number },
  latenessMs: number,
): ClosedBar[] {
  const start = trade.timestamp - (trade.timestamp % state.timeframeMs);
  if (start < state.closedBefore) {
    state.late++;
    return [];
  }
  let bar = state.open.find((b) => b.start === start);
  if (!bar) {
    bar = {
      start,
      open: trade.price,
      high: trade.price,
      low: trade.price,
      close: trade.price,
      volume: 0,
      priceVolume: 0,
      count: 0,
      firstAt: trade.timestamp,
      lastAt: trade.timestamp,
    };
    state.open.push(bar);
    state.open.sort((a, b) => a.start - b.start);
  }
  if (trade.price > bar.high) bar.high = trade.price;
  if (trade.price < bar.low) bar.low = trade.price;
  if (trade.timestamp < bar.firstAt) {
    bar.firstAt = trade.timestamp;
    bar.open = trade.price;
  }
  if (trade.timestamp >= bar.lastAt) {
    bar.lastAt = trade.timestamp;
    bar.close = trade.price;
  }
  bar.volume += trade.size;
  bar.priceVolume += trade.price * trade.size;
  bar.count++;
  if (trade.timestamp > state.watermark) state.watermark = trade.timestamp;
  return closeUntil(state, state.watermark - latenessMs);
}

/** closes every open bar that ended at or before `time` */
export function closeUntil(state: TradeBarsState, time: number): ClosedBar[] {
  const closed: ClosedBar[] = [];
  while (state.open.length > 0 && state.open[0]!.start + state.timeframeMs <= time) {
    const bar = state.open.shift()!;
    state.closedBefore = bar.start + state.timeframeMs;
    closed.push({
      start: bar.start,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      vwap: bar.volume === 0 ? bar.close : bar.priceVolume / bar.volume,
      tradeCount: bar.count,
    });
  }
  return closed;
}
