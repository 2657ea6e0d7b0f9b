import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { MarketBar } from "../messages/market.ts";
import type { MarketDataSource } from "../sources/market/market-data-source.ts";
import type { NodeConfig } from "./config.ts";

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

export function warmUpWanted(config: NodeConfig): boolean {
  return (
    config.marketModel === "on" &&
    config.models === "on" &&
    config.features === "on" &&
    config.lake === "on" &&
    config.marketModelWarmupMinutes > 0
  );
}

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
