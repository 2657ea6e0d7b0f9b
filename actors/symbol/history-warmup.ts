import type { Log } from "../../log/log.ts";
import type { RecordCodec } from "../../messages/codec/record-codec.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { MarketBar } from "../../messages/market.ts";
import { Topics } from "../../messages/topics.ts";
import type { MarketDataSource } from "../../sources/market/market-data-source.ts";

/**
 * Where a node's market chain starts: after the newest minute bar of each symbol in the log
 * (a restart), or after the warm-up history of the symbols the log has none of (a fresh node).
 */
/** the start of the newest minute bar of each symbol in `market.bars.1m` (its partitions' tails) */
export async function lastMinuteBars(
  log: Log,
  codec: RecordCodec,
  symbols: readonly string[],
): Promise<Map<string, number>> {
  const topic = Topics.marketBars("1m");
  const wanted = new Set(symbols);
  const last = new Map<string, number>();
  const partitions = (await log.partitions(topic)) ?? 0;
  for (let partition = 0; partition < partitions; partition++) {
    const end = await log.endOffset({ topic, partition });
    const records = await log.read(
      { topic, partition },
      { fromOffset: Math.max(0, end - 5000), maxRecords: 5000 },
    );
    for (const record of records) {
      if (record.key === null || !wanted.has(record.key) || record.value === null) continue;
      try {
        const bar = MarketBar.safeParse(codec.decode(record.value));
        if (bar.success && bar.data.start > (last.get(bar.data.symbol) ?? -1))
          last.set(bar.data.symbol, bar.data.start);
      } catch (error) {
        // a record that does not decode says nothing about the last minute
        if (!(error instanceof PlatformError)) throw error;
      }
    }
  }
  return last;
}

/**
 * History for a market model to learn from on a node whose log has no bar of a symbol yet: the
 * last `minutes` minute bars of those symbols, from the first source whose history answers (a
 * source without keys refuses and the next one answers), handed to the ingest as back-filled
 * bars before the live feed starts, so the symbol actors take them in time order ahead of the
 * first live trade and build their indicators (the features' offline rows) from them. A symbol
 * with bars in the log is left to the chain's gap back-fill. Returns each warmed symbol's last
 * minute, which the chain starts after.
 */
const MINUTE = 60_000;

export async function warmUpHistory(options: {
  readonly sources: readonly MarketDataSource[];
  readonly symbols: readonly string[];
  readonly lastMinutes: ReadonlyMap<string, number>;
  readonly minutes: number;
  readonly now: number;
  readonly bar: (bar: MarketBar) => void;
}): Promise<Map<string, number>> {
  const last = new Map(options.lastMinutes);
  const fresh = options.symbols.filter((symbol) => !last.has(symbol));
  if (fresh.length === 0 || options.minutes <= 0) return last;
  const to = options.now - (options.now % MINUTE);
  const from = to - options.minutes * MINUTE;
  const errors: unknown[] = [];
  for (const source of options.sources) {
    try {
      for await (const page of source.history({ symbols: fresh, timeframe: "1m", from, to }))
        for (const bar of page) {
          options.bar({ ...bar, source: `backfill:${source.name}` });
          if (bar.start > (last.get(bar.symbol) ?? -1)) last.set(bar.symbol, bar.start);
        }
      return last;
    } catch (error) {
      errors.push(error);
    }
  }
  throw new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, "no market source answered the warm-up history", {
    cause: new AggregateError(errors),
  });
}
