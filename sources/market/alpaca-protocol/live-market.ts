import type { MarketModel, SimTrade } from "../simulator/market-model.ts";
import type { WireBar, WireQuote, WireTrade } from "./wire-format.ts";

/**
 * The simulated market as it happens: on each tick, for every symbol someone listens to, the
 * trades (and a quote every few trades) whose time passed since the last tick, and the minute
 * bars of the minutes that ended. All of it comes from the model, so the live stream and the
 * REST history describe one market.
 */
export interface MarketEvents {
  readonly trades: WireTrade[];
  readonly quotes: WireQuote[];
  readonly bars: WireBar[];
}

/** a quote after every this many trades */
const TRADES_PER_QUOTE = 4;

interface SymbolCursor {
  /** trades up to this instant (inclusive) were emitted */
  emittedUntil: number;
  /** the minute whose trades are cached, and its trades */
  minute: number;
  trades: SimTrade[];
  /** the next trade index of `minute` to emit */
  next: number;
  /** minute bars before this start were emitted */
  barsFrom: number;
  sinceQuote: number;
}

export class LiveMarket {
  private readonly cursors = new Map<string, SymbolCursor>();

  constructor(private readonly model: MarketModel) {}

  /** start following a symbol from `now` (nothing earlier is replayed) */
  follow(symbol: string, now: number): void {
    if (this.cursors.has(symbol)) return;
    const minute = now - (now % 60_000);
    this.cursors.set(symbol, {
      emittedUntil: now,
      minute: Number.NaN,
      trades: [],
      next: 0,
      // the bar of the minute in progress goes out when it ends, as Alpaca sends it to a
      // subscriber that joined mid-minute
      barsFrom: minute,
      sinceQuote: 0,
    });
  }

  unfollow(symbol: string): void {
    this.cursors.delete(symbol);
  }

  get followed(): readonly string[] {
    return [...this.cursors.keys()];
  }

  /** what happened in (last tick, now] for every followed symbol */
  tick(now: number): MarketEvents {
    const events: MarketEvents = { trades: [], quotes: [], bars: [] };
    for (const [symbol, cursor] of this.cursors) this.advance(symbol, cursor, now, events);
    return events;
  }

  private advance(symbol: string, cursor: SymbolCursor, now: number, out: MarketEvents): void {
    let minute = cursor.emittedUntil - (cursor.emittedUntil % 60_000);
    // a long pause (a stopped process) skips ahead instead of replaying hours of trades
    if (now - minute > 10 * 60_000) minute = now - (now % 60_000) - 60_000;
    for (; minute <= now; minute += 60_000) {
      if (minute !== cursor.minute) {
        cursor.minute = minute;
        cursor.trades = this.model.trades(symbol, minute);
        cursor.next = 0;
        while (
          cursor.next < cursor.trades.length &&
          cursor.trades[cursor.next]!.timestamp <= cursor.emittedUntil
        )
          cursor.next++;
      }
      const trades = cursor.trades;
      while (cursor.next < trades.length && trades[cursor.next]!.timestamp <= now) {
        const trade = trades[cursor.next++]!;
        out.trades.push({
          symbol,
          id: trade.id,
          price: trade.price,
          size: trade.size,
          timestamp: trade.timestamp,
        });
        if (++cursor.sinceQuote >= TRADES_PER_QUOTE) {
          cursor.sinceQuote = 0;
          const half = Math.max(0.01, Math.round(trade.price * 0.0001 * 100) / 100);
          out.quotes.push({
            symbol,
            bidPrice: Math.round((trade.price - half) * 100) / 100,
            bidSize: 1 + (trade.id % 9),
            askPrice: Math.round((trade.price + half) * 100) / 100,
            askSize: 1 + (Math.floor(trade.id / 8) % 9),
            timestamp: trade.timestamp,
          });
        }
      }
    }
    cursor.emittedUntil = now;
    // a minute's bar goes out once the minute is over, as Alpaca sends it
    for (let start = cursor.barsFrom; start + 60_000 <= now; start += 60_000) {
      const bar = this.model.minuteBar(symbol, start);
      if (bar) out.bars.push({ symbol, ...bar });
      cursor.barsFrom = start + 60_000;
    }
    if (now - cursor.barsFrom > 10 * 60_000) cursor.barsFrom = now - (now % 60_000);
  }
}
