import type { Log, ProducerRecord } from "../log/log.ts";
import type { SymbolMention, SymbolSentiment } from "../messages/news.ts";
import { Topics } from "../messages/topics.ts";

/**
 * Where the news room's per-symbol records go: each (article, symbol) pair a reader found,
 * re-keyed by symbol to the symbol desks' repartition topic, and each symbol's rolling sentiment
 * to `news.symbol-sentiment` (and the `news` feed as it moves). Appends are batched; `flush()`
 * makes everything emitted so far durable, and the news engine calls it before it commits input
 * offsets and saves desk state, so a mention or a sentiment the saved state counts is never lost.
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

interface Pending {
  readonly topic: string;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

const encoder = new TextEncoder();

export class SymbolNewsOutputs {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private appending: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SymbolNewsOutputsDeps) {}

  mention(mention: SymbolMention, at: number): void {
    this.enqueue({ topic: this.deps.mentionsTopic, key: mention.symbol, value: mention, timestamp: at });
  }

  symbolSentiment(sentiment: SymbolSentiment): void {
    this.deps.live(sentiment);
    this.enqueue({
      topic: Topics.newsSymbolSentiment,
      key: sentiment.symbol,
      value: sentiment,
      timestamp: sentiment.at,
    });
  }

  /** everything emitted so far is durable when this resolves; rejects if an append failed */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    const run = this.appending.then(() => this.append(batch));
    this.appending = run.catch((error) => this.deps.onError(error));
    return run;
  }

  private enqueue(item: Pending): void {
    this.queue.push(item);
    if (this.queue.length >= (this.deps.maxBatch ?? 1000)) {
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
    for (const item of batch)
      records.push({
        topic: item.topic,
        key: item.key,
        // the re-key topic is internal: plain JSON; the sentiment topic carries its schema id
        value:
          item.topic === this.deps.mentionsTopic
            ? encoder.encode(JSON.stringify(item.value))
            : await this.deps.encode(item.topic, item.value),
        timestamp: item.timestamp,
      });
    try {
      await this.deps.log.append(records);
    } catch (error) {
      // kept for the next flush: the checkpoint that waited on this one did not commit
      this.queue = [...batch, ...this.queue];
      throw error;
    }
  }
}
