import { BatchedAppends } from "../../log/batched-appends.ts";
import type { Log } from "../../log/log.ts";
import { type DeadLetter, deadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { MarketBar, MarketQuote, MarketTrade } from "../../messages/market.ts";
import { Topics } from "../../messages/topics.ts";

/**
 * Ingest of market data into the log: each trade, quote and bar a source delivers is validated
 * against its schema (messages/market.ts) and appended, keyed by symbol, to
 * `market.trades.raw`, `market.quotes.raw` or `market.bars.raw`; a back-filled minute bar is also
 * appended to `market.trades.raw` (framed with the bar schema), where the symbol actors take it in
 * order with the trades, and a back-filled longer bar to `market.bars.<timeframe>`. What does
 * not validate becomes a dead letter with its reason, never a crash.
 *
 * Records are batched (log/batched-appends.ts: up to `maxBatch`, at most `lingerMs` old) so a
 * 50k trades/s stream costs a few appends a second; a failed append's batch waits for the next
 * flush. The queue is bounded: a market feed cannot be paused, so past `maxQueued` the oldest
 * waiting records are shed and counted (`dropped`), which /metrics shows.
 */
export interface MarketIngestOptions {
  readonly log: Log;
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array> | Uint8Array;
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onAppended?: (topic: string, count: number) => void;
  readonly onError: (error: unknown) => void;
  readonly maxBatch?: number;
  readonly lingerMs?: number;
  readonly maxQueued?: number;
  readonly now?: () => number;
}

export class MarketIngest {
  private readonly appends: BatchedAppends;
  private readonly tally = { trades: 0, quotes: 0, bars: 0, rejected: 0 };

  constructor(private readonly options: MarketIngestOptions) {
    this.appends = new BatchedAppends({
      log: options.log,
      encode: options.encode,
      onError: options.onError,
      ...(options.onAppended ? { onAppended: options.onAppended } : {}),
      maxBatch: options.maxBatch ?? 5000,
      lingerMs: options.lingerMs ?? 20,
      maxQueued: options.maxQueued ?? 200_000,
    });
  }

  /** records taken, refused, and shed because the log fell behind */
  get counts(): { trades: number; quotes: number; bars: number; rejected: number; dropped: number } {
    return { ...this.tally, dropped: this.appends.dropped };
  }

  trade(value: unknown): void {
    const parsed = MarketTrade.safeParse(value);
    if (!parsed.success) {
      this.reject(Topics.marketTradesRaw, value, parsed.error.issues[0]);
      return;
    }
    this.tally.trades++;
    this.appends.enqueue({
      topic: Topics.marketTradesRaw,
      key: parsed.data.symbol,
      value: parsed.data,
      timestamp: parsed.data.timestamp,
    });
  }

  quote(value: unknown): void {
    const parsed = MarketQuote.safeParse(value);
    if (!parsed.success) {
      this.reject(Topics.marketQuotesRaw, value, parsed.error.issues[0]);
      return;
    }
    this.tally.quotes++;
    this.appends.enqueue({
      topic: Topics.marketQuotesRaw,
      key: parsed.data.symbol,
      value: parsed.data,
      timestamp: parsed.data.timestamp,
    });
  }

  bar(value: unknown): void {
    const parsed = MarketBar.safeParse(value);
    if (!parsed.success) {
      this.reject(Topics.marketBarsRaw, value, parsed.error.issues[0]);
      return;
    }
    const bar = parsed.data;
    this.tally.bars++;
    this.appends.enqueue({ topic: Topics.marketBarsRaw, key: bar.symbol, value: bar, timestamp: bar.start });
    // a back-filled minute joins the symbol's trades, framed as the bar it is, so the symbol
    // actor takes it in order with them and its 5m and 1h bars include it (it emits the minute
    // to market.bars.1m itself)
    if (bar.source.startsWith("backfill:") && bar.timeframe === "1m")
      this.appends.enqueue({
        topic: Topics.marketTradesRaw,
        schemaTopic: Topics.marketBarsRaw,
        key: bar.symbol,
        value: bar,
        timestamp: bar.start,
      });
    else if (bar.source.startsWith("backfill:"))
      this.appends.enqueue({
        topic: Topics.marketBars(bar.timeframe),
        key: bar.symbol,
        value: bar,
        timestamp: bar.start,
      });
  }

  /** appends everything queued; resolves when it is durable, rejects if an append failed */
  flush(): Promise<void> {
    return this.appends.flush();
  }

  private reject(
    topic: string,
    value: unknown,
    issue: { path: PropertyKey[]; message: string } | undefined,
  ): void {
    this.tally.rejected++;
    const source =
      typeof (value as { source?: unknown })?.source === "string"
        ? (value as { source: string }).source
        : "unknown";
    const reason = issue
      ? `${issue.path.map(String).join(".") || "value"}: ${issue.message}`
      : "invalid record";
    let raw: string;
    try {
      raw = JSON.stringify(value) ?? String(value);
    } catch (error) {
      raw = `unserializable: ${error instanceof Error ? error.name : "value"}`;
    }
    this.options.onDeadLetter(
      deadLetter(
        `market:${source.slice(0, 64)}`,
        ErrorCodes.SCHEMA_VIOLATION,
        reason,
        raw,
        (this.options.now ?? Date.now)(),
      ),
      topic,
    );
  }
}
