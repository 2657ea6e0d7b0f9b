import { type MarketBar, TIMEFRAME_MS } from "../../messages/market.ts";
import { LiveMarket } from "./alpaca-protocol/live-market.ts";
import type { HistoryRequest, LiveFeed, MarketDataSource, MarketEvents } from "./market-data-source.ts";
import type { MarketModel } from "./simulator/market-model.ts";

/**
 * The simulated market in process, the chain's last resort: it needs no network and no keys, so
 * it never refuses. The same model backs the Alpaca-protocol server, so a node that falls back
 * here sees the market it would have seen through the SDK.
 */
export class SimulatorSource implements MarketDataSource {
  readonly name: string;

  constructor(
    private readonly model: MarketModel,
    private readonly options: {
      readonly name?: string;
      readonly tickMs?: number;
      readonly now?: () => number;
    } = {},
  ) {
    this.name = options.name ?? "simulator";
  }

  async stream(symbols: readonly string[], events: MarketEvents): Promise<LiveFeed> {
    const now = this.options.now ?? Date.now;
    const live = new LiveMarket(this.model);
    for (const symbol of symbols) live.follow(symbol, now());
    const source = this.name;
    const timer = setInterval(() => {
      const happened = live.tick(now());
      for (const t of happened.trades)
        events.trade({
          symbol: t.symbol,
          price: t.price,
          size: t.size,
          timestamp: t.timestamp,
          id: String(t.id),
          source,
        });
      for (const q of happened.quotes)
        events.quote({
          symbol: q.symbol,
          bid_price: q.bidPrice,
          bid_size: q.bidSize,
          ask_price: q.askPrice,
          ask_size: q.askSize,
          timestamp: q.timestamp,
          source,
        });
      for (const b of happened.bars) events.bar(simBar(b.symbol, "1m", b, source));
    }, this.options.tickMs ?? 100);
    return {
      async stop() {
        clearInterval(timer);
      },
    };
  }

  async *history(request: HistoryRequest): AsyncIterable<MarketBar[]> {
    const pageSize = request.pageSize ?? 10_000;
    const now = (this.options.now ?? Date.now)();
    const tf = TIMEFRAME_MS[request.timeframe];
    for (const symbol of [...request.symbols].sort()) {
      let page: MarketBar[] = [];
      for (const bar of this.model.iterateBars(symbol, tf, request.from, Math.min(request.to, now))) {
        // a bar still forming is not history yet
        if (bar.start + tf > now) break;
        page.push(simBar(symbol, request.timeframe, bar, this.name));
        if (page.length === pageSize) {
          request.signal?.throwIfAborted();
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    }
  }
}

function simBar(
  symbol: string,
  timeframe: MarketBar["timeframe"],
  b: {
    start: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    tradeCount: number;
    vwap: number;
  },
  source: string,
): MarketBar {
  return {
    symbol,
    timeframe,
    start: b.start,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    vwap: b.vwap,
    trade_count: b.tradeCount,
    source,
  };
}
