import type { Log, ProducerRecord } from "../../log/log.ts";
import { type DeadLetter, deadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { MarketBar, MarketQuote, MarketTrade } from "../../messages/market.ts";
import { Topics } from "../../messages/topics.ts";

/**
 * Ingest of market data into the log: each trade, quote and bar a source delivers is validated
 * against its schema (messages/market.ts) and appended, keyed by symbol, to
 * `market.trades.raw`, `market.quotes.raw` or `market.bars.raw`; a back-filled minute bar is also
 * appended to `market.trades.raw` (framed with the bar schema), where the symbol actors take it in
 * order with the trades, and a back-filled longer bar to `market.bars.<timeframe>`. What does not validate becomes a dead letter with its reason, never a crash.
 *
 * Records are batched (up to `maxBatch`, at most `lingerMs` old) so a 50k trades/s stream costs
 * a few appends a second. The queue is bounded: a market feed cannot be paused, so past
 * `maxQueued` the oldest waiting records are shed and counted (`dropped`), which /metrics shows.
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

interface Pending {
  readonly topic: string;
  /** the topic whose value schema frames the record, when not its own */
  readonly schemaTopic?: string;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

export class MarketIngest {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  readonly counts = { trades: 0, quotes: 0, bars: 0, rejected: 0, dropped: 0 };

  constructor(private readonly options: MarketIngestOptions) {}

  trade(value: unknown): void {
    const parsed = MarketTrade.safeParse(value);
    if (!parsed.success) {
      this.reject(Topics.marketTradesRaw, value, parsed.error.issues[0]);
      return;
    }
    this.counts.trades++;
    this.enqueue({
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
    this.counts.quotes++;
    this.enqueue({
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
    this.counts.bars++;
    this.enqueue({ topic: Topics.marketBarsRaw, key: bar.symbol, value: bar, timestamp: bar.start });
    // a back-filled minute joins the symbol's trades, framed as the bar it is, so the symbol
    // actor takes it in order with them and its 5m and 1h bars include it (it emits the minute
    // to market.bars.1m itself)
    if (bar.source.startsWith("backfill:") && bar.timeframe === "1m")
      this.enqueue({
        topic: Topics.marketTradesRaw,
        schemaTopic: Topics.marketBarsRaw,
        key: bar.symbol,
        value: bar,
        timestamp: bar.start,
      });
    else if (bar.source.startsWith("backfill:"))
      this.enqueue({
        topic: Topics.marketBars(bar.timeframe),
        key: bar.symbol,
        value: bar,
        timestamp: bar.start,
      });
  }

  /** appends everything queued; resolves when it is durable */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    const run = this.flushing.then(() => this.append(batch));
    this.flushing = run.catch((error) => this.options.onError(error));
    return run;
  }

  private enqueue(record: Pending): void {
    this.queue.push(record);
    const max = this.options.maxQueued ?? 200_000;
    if (this.queue.length > max) {
      const shed = this.queue.length - max;
      this.queue.splice(0, shed);
      this.counts.dropped += shed;
    }
    if (this.queue.length >= (this.options.maxBatch ?? 5000)) {
      this.flush().catch((error) => this.options.onError(error));
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error) => this.options.onError(error));
    }, this.options.lingerMs ?? 20);
  }

  private async append(batch: readonly Pending[]): Promise<void> {
    if (batch.length === 0) return;
    const records: ProducerRecord[] = [];
    for (const item of batch)
      records.push({
        topic: item.topic,
        key: item.key,
        value: await this.options.encode(item.schemaTopic ?? item.topic, item.value),
        timestamp: item.timestamp,
      });
    await this.options.log.append(records);
    const byTopic = new Map<string, number>();
    for (const r of records) byTopic.set(r.topic, (byTopic.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of byTopic) this.options.onAppended?.(topic, n);
  }

  private reject(
    topic: string,
    value: unknown,
    issue: { path: PropertyKey[]; message: string } | undefined,
  ): void {
    this.counts.rejected++;
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
