import type { Log, ProducerRecord } from "../log/log.ts";
import type { IndicatorSnapshot, MarketAnomaly, MarketBar } from "../messages/market.ts";
import { Topics } from "../messages/topics.ts";

/**
 * Where the symbol actors' outputs go: bars to `market.bars.<tf>`, indicator snapshots to
 * `market.indicators`, anomalies to `market.anomalies` (keyed by symbol), and each to the
 * node's live side (read model, feeds) as it is emitted. Appends are batched; `flush()` makes
 * everything emitted so far durable, and the aggregate engine calls it before it commits input
 * offsets, so a committed trade's bar is never lost (engine/repartitioned-aggregates.ts).
 */
export interface MarketOutputsDeps {
  readonly log: Log;
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array> | Uint8Array;
  readonly live: {
    bar(bar: MarketBar): void;
    indicator(snapshot: IndicatorSnapshot): void;
    anomaly(anomaly: MarketAnomaly): void;
  };
  readonly onAppended?: (topic: string, count: number) => void;
  readonly onError: (error: unknown) => void;
  readonly lingerMs?: number;
  readonly maxBatch?: number;
}

interface Pending {
  readonly topic: string;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

export class MarketOutputs {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private appending: Promise<void> = Promise.resolve();

  constructor(private readonly deps: MarketOutputsDeps) {}

  bar(bar: MarketBar): void {
    this.deps.live.bar(bar);
    this.enqueue({
      topic: Topics.marketBars(bar.timeframe),
      key: bar.symbol,
      value: bar,
      timestamp: bar.start,
    });
  }

  indicator(snapshot: IndicatorSnapshot): void {
    this.deps.live.indicator(snapshot);
    this.enqueue({
      topic: Topics.marketIndicators,
      key: snapshot.symbol,
      value: snapshot,
      timestamp: snapshot.bar_start,
    });
  }

  anomaly(anomaly: MarketAnomaly): void {
    this.deps.live.anomaly(anomaly);
    this.enqueue({
      topic: Topics.marketAnomalies,
      key: anomaly.symbol,
      value: anomaly,
      timestamp: anomaly.bar_start,
    });
  }

  /** everything emitted so far is durable when this resolves; rejects if an append failed */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    // appends stay in order; a failed one fails this flush (and so the checkpoint waiting on it)
    const run = this.appending.then(() => this.append(batch));
    this.appending = run.catch((error) => this.deps.onError(error));
    return run;
  }

  private enqueue(item: Pending): void {
    this.queue.push(item);
    if (this.queue.length >= (this.deps.maxBatch ?? 2000)) {
      this.flush().catch((error) => this.deps.onError(error));
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error) => this.deps.onError(error));
    }, this.deps.lingerMs ?? 50);
  }

  private async append(batch: readonly Pending[]): Promise<void> {
    if (batch.length === 0) return;
    const records: ProducerRecord[] = [];
    for (const item of batch) {
      let value: Uint8Array;
      try {
        value = await this.deps.encode(item.topic, item.value);
      } catch (error) {
        // a record its schema refuses would be refused for ever: reported, not retried
        this.deps.onError(error);
        continue;
      }
      records.push({ topic: item.topic, key: item.key, value, timestamp: item.timestamp });
    }
    try {
      await this.deps.log.append(records);
    } catch (error) {
      // kept for the next flush: the checkpoint that waited on this one did not commit, and the
      // actors will not emit these again (their state already counts the trades)
      this.queue = [...batch, ...this.queue];
      throw error;
    }
    const byTopic = new Map<string, number>();
    for (const r of records) byTopic.set(r.topic, (byTopic.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of byTopic) this.deps.onAppended?.(topic, n);
  }
}
