import type { IndicatorSnapshot, MarketBar, MarketQuote, Timeframe } from "../../messages/market.ts";

/**
 * The API's read model of the markets: per symbol and timeframe the last `maxBars` bars (by
 * start, a bar seen again replaces its earlier version) and indicator snapshots, and each
 * symbol's latest quote. Bounded: at most `maxSymbols` symbols (new ones past that are not
 * kept; a symbol list is configured, not open-ended), `maxBars` per series.
 */
export class MarketView {
  private readonly bars = new Map<string, Map<number, MarketBar>>();
  private readonly indicators = new Map<string, Map<number, IndicatorSnapshot>>();
  private readonly quotes = new Map<string, MarketQuote>();
  private readonly symbols = new Set<string>();

  constructor(private readonly options: { readonly maxBars: number; readonly maxSymbols: number }) {}

  private admit(symbol: string): boolean {
    if (this.symbols.has(symbol)) return true;
    if (this.symbols.size >= this.options.maxSymbols) return false;
    this.symbols.add(symbol);
    return true;
  }

  private put<T>(series: Map<string, Map<number, T>>, key: string, start: number, value: T): void {
    let byStart = series.get(key);
    if (!byStart) {
      byStart = new Map();
      series.set(key, byStart);
    }
    byStart.delete(start);
    byStart.set(start, value);
    // insertion order is arrival order; bars arrive nearly in order, so the oldest goes first
    if (byStart.size > this.options.maxBars) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const s of byStart.keys()) if (s < oldest) oldest = s;
      byStart.delete(oldest);
    }
  }

  /**
   * A back-filled bar is the source's whole minute; a bar the actors built over the same minute
   * may be partial (a restart or a hand-over inside it), so it does not replace a back-filled one.
   */
  bar(bar: MarketBar): void {
    if (!this.admit(bar.symbol)) return;
    const key = `${bar.symbol}|${bar.timeframe}`;
    const have = this.bars.get(key)?.get(bar.start);
    if (have?.source.startsWith("backfill:") && !bar.source.startsWith("backfill:")) return;
    this.put(this.bars, key, bar.start, bar);
  }

  indicator(snapshot: IndicatorSnapshot): void {
    if (this.admit(snapshot.symbol))
      this.put(this.indicators, `${snapshot.symbol}|${snapshot.timeframe}`, snapshot.bar_start, snapshot);
  }

  quote(quote: MarketQuote): void {
    if (this.admit(quote.symbol)) this.quotes.set(quote.symbol, quote);
  }

  knows(symbol: string): boolean {
    return this.symbols.has(symbol);
  }

  barsOf(symbol: string, timeframe: Timeframe, from: number, to: number): MarketBar[] {
    const series = this.bars.get(`${symbol}|${timeframe}`);
    if (!series) return [];
    return [...series.values()]
      .filter((b) => b.start >= from && b.start < to)
      .sort((a, b) => a.start - b.start);
  }

  indicatorsOf(symbol: string, timeframe: Timeframe, from: number, to: number): IndicatorSnapshot[] {
    const series = this.indicators.get(`${symbol}|${timeframe}`);
    if (!series) return [];
    return [...series.values()]
      .filter((s) => s.bar_start >= from && s.bar_start < to)
      .sort((a, b) => a.bar_start - b.bar_start);
  }

  latestQuote(symbol: string): MarketQuote | undefined {
    return this.quotes.get(symbol);
  }

  sizes(): { symbols: number } {
    return { symbols: this.symbols.size };
  }
}
