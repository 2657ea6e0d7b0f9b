import type { Log, LogRecord } from "../../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { MarketBar, MarketTrade } from "../../../messages/market.ts";
import { partitionFor } from "../../../messages/murmur2.ts";
import { Topics } from "../../../messages/topics.ts";
import type { HistoryRequest, LiveFeed, MarketDataSource, MarketEvents } from "../market-data-source.ts";

/**
 * Replay of what the platform already recorded: history is the bars in `market.bars.<tf>`
 * (back-filled or built by the symbol actors), the live feed replays the last recorded trades of
 * `market.trades.raw` with their original spacing, moved to the present, round after round.
 * Only trades a real provider delivered are replayed: the simulator's own (and replay's) are
 * not, or with the default order (alpaca, replay, simulator) a node without keys failed back,
 * a minute after it started, from the live simulation to a loop of the simulation it had just
 * recorded.
 * It reads the log today; when the lake holds the history, a lake reader takes the log's place
 * behind the same port.
 */
export interface ReplaySourceOptions {
  readonly log: Log;
  readonly decode: (bytes: Uint8Array) => unknown;
  /** trades per partition to replay at most */
  readonly maxTrades?: number;
  readonly tickMs?: number;
  readonly now?: () => number;
}

const READ_BATCH = 5000;
/** sources whose trades are not worth replaying: a simulation, or a replay itself */
const NOT_RECORDINGS: ReadonlySet<string> = new Set(["simulator", "replay"]);

export class ReplaySource implements MarketDataSource {
  readonly name = "replay";
  private readonly now: () => number;

  constructor(private readonly options: ReplaySourceOptions) {
    this.now = options.now ?? Date.now;
  }

  async stream(symbols: readonly string[], events: MarketEvents): Promise<LiveFeed> {
    const trades = await this.recordedTrades(symbols);
    if (trades.length < 2)
      throw new PlatformError(
        ErrorCodes.SOURCE_UNAVAILABLE,
        "replay: no trades of these symbols recorded from a provider to replay",
      );
    trades.sort((a, b) => a.timestamp - b.timestamp);
    const first = trades[0]!.timestamp;
    const span = trades.at(-1)!.timestamp - first + 1000;
    let roundStart = this.now();
    let next = 0;
    const timer = setInterval(() => {
      const now = this.now();
      for (;;) {
        if (next === trades.length) {
          next = 0;
          roundStart += span;
        }
        const trade = trades[next]!;
        const at = roundStart + (trade.timestamp - first);
        if (at > now) break;
        events.trade({ ...trade, timestamp: at, source: this.name });
        next++;
      }
    }, this.options.tickMs ?? 100);
    return {
      async stop() {
        clearInterval(timer);
      },
    };
  }

  async *history(request: HistoryRequest): AsyncIterable<MarketBar[]> {
    const topic = Topics.marketBars(request.timeframe);
    const partitions = await this.options.log.partitions(topic);
    if (partitions === undefined) return;
    const pageSize = request.pageSize ?? 10_000;
    for (const symbol of [...request.symbols].sort()) {
      const byStart = new Map<number, MarketBar>();
      await this.scan(topic, partitionFor(symbol, partitions), (record) => {
        if (record.key !== symbol || record.value === null) return;
        const parsed = MarketBar.safeParse(this.options.decode(record.value));
        if (!parsed.success) return;
        const bar = parsed.data;
        if (bar.start >= request.from && bar.start < request.to) byStart.set(bar.start, bar);
      });
      const bars = [...byStart.values()].sort((a, b) => a.start - b.start);
      for (let i = 0; i < bars.length; i += pageSize) {
        request.signal?.throwIfAborted();
        yield bars.slice(i, i + pageSize).map((bar) => ({ ...bar, source: this.name }));
      }
    }
  }

  private async recordedTrades(symbols: readonly string[]): Promise<MarketTrade[]> {
    const topic = Topics.marketTradesRaw;
    const partitions = await this.options.log.partitions(topic);
    if (partitions === undefined) return [];
    const wanted = new Set(symbols);
    const max = this.options.maxTrades ?? 50_000;
    const trades: MarketTrade[] = [];
    for (const partition of new Set(symbols.map((s) => partitionFor(s, partitions)))) {
      const end = await this.options.log.endOffset({ topic, partition });
      await this.scan(
        topic,
        partition,
        (record) => {
          if (record.key === null || !wanted.has(record.key) || record.value === null) return;
          const parsed = MarketTrade.safeParse(this.options.decode(record.value));
          if (parsed.success && !NOT_RECORDINGS.has(parsed.data.source)) trades.push(parsed.data);
        },
        Math.max(0, end - max),
      );
    }
    return trades;
  }

  private async scan(topic: string, partition: number, visit: (record: LogRecord) => void, from = 0) {
    let offset = from;
    for (;;) {
      const records = await this.options.log.read(
        { topic, partition },
        { fromOffset: offset, maxRecords: READ_BATCH },
      );
      if (records.length === 0) return;
      for (const record of records) {
        try {
          visit(record);
        } catch (error) {
          // a record that does not decode is not history: skipped (it reached its dead letters at ingest)
          if (!(error instanceof PlatformError)) throw error;
        }
      }
      offset = records.at(-1)!.offset + 1;
    }
  }
}
