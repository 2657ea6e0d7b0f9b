import type { PlatformError } from "../../messages/errors.ts";
import type { MarketBar, MarketQuote, MarketTrade, Timeframe } from "../../messages/market.ts";

/**
 * The MarketDataSource port: where trades, quotes and minute bars come from, live and as history.
 * Adapters beside it: `alpaca/` (the official SDK; Alpaca or anything speaking its protocols),
 * `replay/` (what the log already holds), `simulator-source.ts` (the simulated market in process).
 * `source-chain.ts` tries them in order, hands over on failure and fails back.
 *
 * A source's failures are PlatformErrors with the codes the chain acts on:
 * SOURCE_UNAUTHORIZED (no keys, or keys refused: not retried), SOURCE_RATE_LIMITED (429 past the
 * client's retries), SOURCE_UNAVAILABLE (cannot connect, lost and not back in time).
 */
export interface MarketEvents {
  trade(trade: MarketTrade): void;
  quote(quote: MarketQuote): void;
  /** a minute bar as the source sent it */
  bar(bar: MarketBar): void;
  /** the live feed was interrupted (it may come back by itself: `resumed`) */
  interrupted(at: number, reason: string): void;
  resumed(at: number): void;
  /** the feed is lost for good: the chain hands over */
  failed(error: PlatformError): void;
}

export interface HistoryRequest {
  readonly symbols: readonly string[];
  readonly timeframe: Timeframe;
  /** [from, to) in epoch ms */
  readonly from: number;
  readonly to: number;
  /** bars per page asked of the source */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

export interface LiveFeed {
  stop(): Promise<void>;
}

export interface MarketDataSource {
  readonly name: string;
  /**
   * Connect and subscribe to trades, quotes and minute bars of `symbols`; resolves once the feed
   * is live, rejects with a PlatformError when it cannot be.
   */
  stream(symbols: readonly string[], events: MarketEvents): Promise<LiveFeed>;
  /** historical bars, page by page, each page ordered by symbol then time */
  history(request: HistoryRequest): AsyncIterable<MarketBar[]>;
}
