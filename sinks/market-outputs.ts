import { BatchedAppends } from "../log/batched-appends.ts";
import type { Log } from "../log/log.ts";
import type { IndicatorSnapshot, MarketAnomaly, MarketBar } from "../messages/market.ts";
import { Topics } from "../messages/topics.ts";

/**
 * Where the symbol actors' outputs go: bars to `market.bars.<tf>`, indicator snapshots to
 * `market.indicators`, anomalies to `market.anomalies` (keyed by symbol), and each to the
 * node's live side (read model, feeds) as it is emitted. Appends are batched; `flush()` makes
 * everything emitted so far durable, and the aggregate engine calls it before it commits input
 * offsets, so a committed trade's bar is never lost (`log/batched-appends.ts`).
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

export class MarketOutputs {
  private readonly appends: BatchedAppends;

  constructor(private readonly deps: MarketOutputsDeps) {
    this.appends = new BatchedAppends(deps);
  }

  bar(bar: MarketBar): void {
    this.deps.live.bar(bar);
    this.appends.enqueue({
      topic: Topics.marketBars(bar.timeframe),
      key: bar.symbol,
      value: bar,
      timestamp: bar.start,
    });
  }

  indicator(snapshot: IndicatorSnapshot): void {
    this.deps.live.indicator(snapshot);
    this.appends.enqueue({
      topic: Topics.marketIndicators,
      key: snapshot.symbol,
      value: snapshot,
      timestamp: snapshot.bar_start,
    });
  }

  anomaly(anomaly: MarketAnomaly): void {
    this.deps.live.anomaly(anomaly);
    this.appends.enqueue({
      topic: Topics.marketAnomalies,
      key: anomaly.symbol,
      value: anomaly,
      timestamp: anomaly.bar_start,
    });
  }

  /** everything emitted so far is durable when this resolves; rejects if an append failed */
  flush(): Promise<void> {
    return this.appends.flush();
  }
}
