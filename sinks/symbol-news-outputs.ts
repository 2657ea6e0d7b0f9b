import { BatchedAppends } from "../log/batched-appends.ts";
import type { Log } from "../log/log.ts";
import type { SymbolMention, SymbolSentiment } from "../messages/news.ts";
import { Topics } from "../messages/topics.ts";

/**
 * Where the news room's per-symbol records go: each (article, symbol) pair a reader found,
 * re-keyed by symbol to the symbol desks' repartition topic, and each symbol's rolling sentiment
 * to `news.symbol-sentiment` (and the `news` feed as it moves). Appends are batched; `flush()`
 * makes everything emitted so far durable, and the news engine calls it before it commits input
 * offsets and saves desk state, so a mention or a sentiment the saved state counts is never lost
 * (`log/batched-appends.ts`).
 */
export interface SymbolNewsOutputsDeps {
  readonly log: Log;
  /** the re-key topic the symbol desks read */
  readonly mentionsTopic: string;
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array>;
  readonly live: (sentiment: SymbolSentiment) => void;
  readonly onError: (error: unknown) => void;
  readonly lingerMs?: number;
  readonly maxBatch?: number;
}

const encoder = new TextEncoder();

export class SymbolNewsOutputs {
  private readonly appends: BatchedAppends;

  constructor(private readonly deps: SymbolNewsOutputsDeps) {
    this.appends = new BatchedAppends({
      ...deps,
      maxBatch: deps.maxBatch ?? 1000,
      // the re-key topic is internal: plain JSON; the sentiment topic carries its schema id
      encode: (topic, value) =>
        topic === deps.mentionsTopic ? encoder.encode(JSON.stringify(value)) : deps.encode(topic, value),
    });
  }

  mention(mention: SymbolMention, at: number): void {
    this.appends.enqueue({
      topic: this.deps.mentionsTopic,
      key: mention.symbol,
      value: mention,
      timestamp: at,
    });
  }

  symbolSentiment(sentiment: SymbolSentiment): void {
    this.deps.live(sentiment);
    this.appends.enqueue({
      topic: Topics.newsSymbolSentiment,
      key: sentiment.symbol,
      value: sentiment,
      timestamp: sentiment.at,
    });
  }

  /** everything emitted so far is durable when this resolves; rejects if an append failed */
  flush(): Promise<void> {
    return this.appends.flush();
  }
}
