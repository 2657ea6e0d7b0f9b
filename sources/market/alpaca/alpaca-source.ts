import { Alpaca, marketData } from "@alpacahq/alpaca-trade-api";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { ALPACA_TIMEFRAME, type MarketBar } from "../../../messages/market.ts";
import type { HistoryRequest, LiveFeed, MarketDataSource, MarketEvents } from "../market-data-source.ts";
import { barOfRest, barOfStream, quoteOfStream, tradeOfStream } from "./alpaca-records.ts";

/**
 * Alpaca through the official SDK (@alpacahq/alpaca-trade-api v4): the v2 stock stream for
 * trades, quotes and minute bars, and the historical bars endpoint for history and gap
 * back-fill. `dataUrl` / `streamUrl` point the same SDK at anything that speaks Alpaca's
 * protocols (the simulator in tests and benchmarks).
 *
 * Keys come from the caller (the node reads ALPACA_KEY_ID / ALPACA_SECRET_KEY); they are never
 * put in a message or a log line. Without keys the source refuses at once with
 * SOURCE_UNAUTHORIZED, so the chain moves on without a connection attempt.
 */
export interface AlpacaSourceOptions {
  readonly name?: string;
  readonly keyId?: string;
  readonly secret?: string;
  readonly dataUrl?: string;
  readonly streamUrl?: string;
  readonly feed?: "iex" | "sip" | "delayed_sip";
  /**
   * the data API's limit, requests per interval (Alpaca's free plan: 200 a minute); the client
   * paces itself to stay under it in every window (see clientRateLimit)
   */
  readonly rateLimit?: { readonly maxRequests: number; readonly intervalMs: number };
  /** retries of a 429 / 5xx history request (honouring Retry-After) before SOURCE_RATE_LIMITED */
  readonly maxRetries?: number;
  readonly connectTimeoutMs?: number;
  /** how long the SDK may reconnect by itself before the feed counts as failed */
  readonly reconnectGraceMs?: number;
  readonly now?: () => number;
}

/**
 * The SDK's limiter is a token bucket: `maxRequests` of burst refilled over `intervalMs`, so any
 * window of `intervalMs` can see a full burst plus a full refill, twice the server's limit. To
 * stay within a server limit L per window, the bucket here holds a small burst B (L/20) and
 * refills at (L - B) per window: B + (L - B) = L at most in any window.
 */
export function clientRateLimit(server: { maxRequests: number; intervalMs: number }): {
  maxRequests: number;
  intervalMs: number;
} {
  const limit = Math.max(1, Math.floor(server.maxRequests));
  const burst = Math.max(1, Math.floor(limit / 20));
  if (limit <= burst) return { maxRequests: 1, intervalMs: server.intervalMs * 2 };
  return { maxRequests: burst, intervalMs: Math.ceil((server.intervalMs * burst) / (limit - burst)) };
}

export function hasAlpacaKeys(options: Pick<AlpacaSourceOptions, "keyId" | "secret">): boolean {
  return Boolean(options.keyId) && Boolean(options.secret);
}

export class AlpacaSource implements MarketDataSource {
  readonly name: string;
  private readonly now: () => number;
  private rest: marketData.StockApi | undefined;

  constructor(private readonly options: AlpacaSourceOptions) {
    this.name = options.name ?? "alpaca";
    this.now = options.now ?? Date.now;
  }

  private requireKeys(): { keyId: string; secret: string } {
    const { keyId, secret } = this.options;
    if (!keyId || !secret)
      throw new PlatformError(
        ErrorCodes.SOURCE_UNAUTHORIZED,
        `${this.name}: no API keys configured (set ALPACA_KEY_ID and ALPACA_SECRET_KEY)`,
      );
    return { keyId, secret };
  }

  async stream(symbols: readonly string[], events: MarketEvents): Promise<LiveFeed> {
    const credentials = this.requireKeys();
    const client = new Alpaca({ ...credentials, retry: false });
    const stream = client.marketData.stockStream({
      feed: this.options.feed ?? "iex",
      ...(this.options.streamUrl ? { url: this.options.streamUrl } : {}),
      initialReconnectMs: 250,
      maxReconnectMs: 5000,
    });
    const source = this.name;
    stream.onTrade((t) => events.trade(tradeOfStream(t, source)));
    stream.onQuote((q) => events.quote(quoteOfStream(q, source)));
    stream.onBar((b) => events.bar(barOfStream(b, source)));

    stream.connect();
    const result = await stream.waitForAuthenticationResult(this.options.connectTimeoutMs ?? 10_000);
    if (!result.authenticated) {
      stream.disconnect();
      if (result.status === "server_rejected")
        throw new PlatformError(
          ErrorCodes.SOURCE_UNAUTHORIZED,
          `${source}: the stream refused the keys (${result.code ?? "?"} ${result.message})`,
        );
      throw new PlatformError(
        ErrorCodes.SOURCE_UNAVAILABLE,
        `${source}: the stream did not connect (${result.status})`,
      );
    }
    // the SDK re-sends these subscriptions itself after every reconnect
    stream.subscribeForTrades([...symbols]);
    stream.subscribeForQuotes([...symbols]);
    stream.subscribeForBars([...symbols]);

    let stopped = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    stream.onDisconnect(() => {
      if (stopped || grace) return;
      events.interrupted(this.now(), `${source}: stream disconnected`);
      grace = setTimeout(() => {
        if (stopped) return;
        stopped = true;
        stream.disconnect();
        events.failed(
          new PlatformError(
            ErrorCodes.SOURCE_UNAVAILABLE,
            `${source}: the stream did not come back within ${this.options.reconnectGraceMs ?? 15_000} ms`,
          ),
        );
      }, this.options.reconnectGraceMs ?? 15_000);
    });
    stream.onReconnected(() => {
      if (stopped) return;
      clearTimeout(grace);
      grace = undefined;
      events.resumed(this.now());
    });
    return {
      async stop() {
        stopped = true;
        clearTimeout(grace);
        stream.disconnect();
      },
    };
  }

  private restApi(): marketData.StockApi {
    if (this.rest) return this.rest;
    const credentials = this.requireKeys();
    this.rest = new marketData.StockApi(
      new marketData.Configuration({
        ...credentials,
        ...(this.options.dataUrl ? { basePath: this.options.dataUrl } : {}),
        retry: { maxRetries: this.options.maxRetries ?? 4, respectRetryAfter: true },
        rateLimit: clientRateLimit(this.options.rateLimit ?? { maxRequests: 200, intervalMs: 60_000 }),
        redirect: "error",
      }),
    );
    return this.rest;
  }

  async *history(request: HistoryRequest): AsyncIterable<MarketBar[]> {
    const api = this.restApi();
    let pageToken: string | undefined;
    const seen = new Set<string>();
    do {
      request.signal?.throwIfAborted();
      let response: marketData.StockBarsResp;
      try {
        response = await api.stockBars(
          {
            symbols: request.symbols.join(","),
            timeframe: ALPACA_TIMEFRAME[request.timeframe],
            start: new Date(request.from),
            end: new Date(request.to - 1),
            limit: request.pageSize ?? 10_000,
            adjustment: "all",
            feed: this.options.feed === "sip" ? "sip" : "iex",
            ...(pageToken ? { pageToken } : {}),
          },
          request.signal ? { signal: request.signal } : undefined,
        );
      } catch (error) {
        throw await this.restError(error);
      }
      const page: MarketBar[] = [];
      for (const [symbol, bars] of Object.entries(response.bars ?? {}))
        for (const raw of bars ?? []) page.push(barOfRest(symbol, request.timeframe, raw, this.name));
      yield page;
      pageToken = response.nextPageToken ?? undefined;
      // a token seen before would loop for ever (the SDK's own pagination guards the same way)
      if (pageToken !== undefined) {
        if (seen.has(pageToken)) break;
        seen.add(pageToken);
      }
    } while (pageToken);
  }

  /** the SDK's error as a PlatformError with the source's code; never the request's headers */
  private async restError(error: unknown): Promise<PlatformError> {
    const status = (error as { response?: { status?: number } }).response?.status;
    const name = this.name;
    if (status === 429)
      return new PlatformError(ErrorCodes.SOURCE_RATE_LIMITED, `${name}: rate limited (429) after retries`);
    if (status === 401 || status === 403)
      return new PlatformError(
        ErrorCodes.SOURCE_UNAUTHORIZED,
        `${name}: the data API refused the keys (${status})`,
      );
    if (status !== undefined && status >= 400 && status < 500)
      return new PlatformError(
        ErrorCodes.BAD_REQUEST,
        `${name}: the data API rejected the request (${status})`,
      );
    return new PlatformError(
      ErrorCodes.SOURCE_UNAVAILABLE,
      `${name}: the data API is unavailable (${status ?? (error instanceof Error ? error.name : "error")})`,
    );
  }
}
