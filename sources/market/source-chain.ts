import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import type { MarketBar, MarketQuote, MarketTrade } from "../../messages/market.ts";
import type { LiveFeed, MarketDataSource, MarketEvents } from "./market-data-source.ts";

/**
 * The fallback chain over market-data sources (`MARKET_SOURCES=alpaca,replay,simulator`): the
 * first source in order that streams is active. When it fails (refused keys, 429, no
 * connection, a disconnect that outlasts the source's grace) the next one takes over; every
 * `failbackEveryMs` the sources before the active one are tried again, and the first that
 * streams takes back over (fail back). A source without keys is not retried: keys do not appear
 * at run time.
 *
 * No minute is missing: the chain remembers the last minute bar of each symbol, and after any
 * interruption (a hand-over, a fail-back, a stream that reconnected by itself) it asks history
 * for the minutes after it that ended meanwhile, active source first, then the others in order,
 * and passes them on as bars whose source is `backfill:<name>`.
 */
export type SourceState = "active" | "standby" | "failed" | "unauthorized";

export interface SourceHealth {
  readonly name: string;
  readonly state: SourceState;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
  readonly lastEventAt?: number;
  readonly activations: number;
}

export interface ChainEvents {
  trade(trade: MarketTrade): void;
  quote(quote: MarketQuote): void;
  bar(bar: MarketBar): void;
  /** the active source changed (`from` undefined at start) */
  handover?(change: { from: string | undefined; to: string; reason: string; at: number }): void;
  /** a gap was back-filled with `bars` minute bars from `source` */
  backfilled?(gap: { source: string; bars: number; from: number; to: number }): void;
  /** something the chain could not act on (history failing everywhere): for the node's log */
  onError?(error: unknown): void;
}

export interface SourceChainOptions {
  readonly sources: readonly MarketDataSource[];
  readonly symbols: readonly string[];
  readonly events: ChainEvents;
  readonly failbackEveryMs?: number;
  /**
   * how late a minute bar may be before the periodic audit back-fills it (the chain's clock);
   * Alpaca sends a minute's bar a few seconds after the minute ends
   */
  readonly barGraceMs?: number;
  /**
   * the last minute bar each symbol already has (from the log, at a restart): the first source
   * back-fills the minutes since, so a node that was down misses none
   */
  readonly lastMinutes?: ReadonlyMap<string, number>;
  /** a gap longer than this is back-filled only for its most recent part (default 7 days) */
  readonly maxBackfillMs?: number;
  readonly now?: () => number;
}

interface Slot {
  readonly source: MarketDataSource;
  state: SourceState;
  lastError?: SourceHealth["lastError"];
  lastEventAt?: number;
  activations: number;
}

const MINUTE = 60_000;

export class MarketSourceChain {
  private readonly slots: Slot[];
  private readonly now: () => number;
  private active: { index: number; feed: LiveFeed; generation: number } | undefined;
  private generation = 0;
  private failbackTimer: ReturnType<typeof setInterval> | undefined;
  /** the last minute bar start per symbol: a gap starts after it */
  private readonly lastMinute = new Map<string, number>();
  /** history was asked up to here per symbol (an empty answer is not asked again) */
  private readonly checkedUntil = new Map<string, number>();
  private switching: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: SourceChainOptions) {
    if (options.sources.length === 0)
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "no market-data source configured");
    this.now = options.now ?? Date.now;
    this.slots = options.sources.map((source) => ({ source, state: "standby", activations: 0 }));
    for (const [symbol, start] of options.lastMinutes ?? []) this.lastMinute.set(symbol, start);
  }

  /** start with the first source that streams; resolves when one does (or none could) */
  async start(): Promise<void> {
    await this.serialized(() => this.connectFrom(0, "start"));
    // each round: try the sources before the active one, then audit the minutes: a bar that a
    // source skipped (a reconnect mid-minute, a feed that dropped it) is back-filled too
    this.failbackTimer = setInterval(() => {
      this.serialized(async () => {
        await this.failBack();
        await this.backfillGap(this.options.barGraceMs ?? 10_000);
      }).catch((error) => this.options.events.onError?.(error));
    }, this.options.failbackEveryMs ?? 60_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.failbackTimer);
    await this.switching;
    const active = this.active;
    this.active = undefined;
    await active?.feed.stop();
  }

  /** the active source's name, or undefined while none streams */
  activeSource(): string | undefined {
    return this.active ? this.slots[this.active.index]!.source.name : undefined;
  }

  health(): SourceHealth[] {
    return this.slots.map((slot) => ({
      name: slot.source.name,
      state: slot.state,
      activations: slot.activations,
      ...(slot.lastError ? { lastError: slot.lastError } : {}),
      ...(slot.lastEventAt !== undefined ? { lastEventAt: slot.lastEventAt } : {}),
    }));
  }

  /** hand-overs and fail-backs one at a time, in order */
  private serialized(step: () => Promise<void>): Promise<void> {
    const run = this.switching.then(step);
    this.switching = run.catch((error) => this.options.events.onError?.(error));
    return run;
  }

  private async connectFrom(first: number, reason: string): Promise<void> {
    for (let index = first; index < this.slots.length && !this.stopped; index++)
      if (await this.tryActivate(index, reason)) return;
    // nothing streams: the fail-back timer tries the whole chain again
  }

  private async failBack(): Promise<void> {
    if (this.stopped) return;
    const upTo = this.active?.index ?? this.slots.length;
    for (let index = 0; index < upTo; index++) {
      if (this.slots[index]!.state === "unauthorized") continue;
      if (await this.tryActivate(index, "fail-back")) return;
    }
  }

  /** start `index`'s feed; on success it replaces the active one and the gap is back-filled */
  private async tryActivate(index: number, reason: string): Promise<boolean> {
    const slot = this.slots[index]!;
    const generation = ++this.generation;
    let feed: LiveFeed;
    try {
      feed = await slot.source.stream(this.options.symbols, this.eventsFor(slot, generation));
    } catch (error) {
      this.recordFailure(slot, error);
      return false;
    }
    if (this.stopped) {
      await feed.stop();
      return false;
    }
    const previous = this.active;
    this.active = { index, feed, generation };
    slot.state = "active";
    slot.activations++;
    if (previous) {
      const old = this.slots[previous.index]!;
      if (old.state === "active") old.state = "standby";
      await previous.feed.stop();
    }
    const from = previous ? this.slots[previous.index]!.source.name : undefined;
    this.options.events.handover?.({ from, to: slot.source.name, reason, at: this.now() });
    await this.backfillGap();
    return true;
  }

  private recordFailure(slot: Slot, error: unknown): void {
    const code = isPlatformError(error) ? error.code : ErrorCodes.SOURCE_UNAVAILABLE;
    const message = isPlatformError(error) ? error.message : `${slot.source.name}: failed`;
    slot.state = code === ErrorCodes.SOURCE_UNAUTHORIZED ? "unauthorized" : "failed";
    slot.lastError = { code, message, at: this.now() };
    if (!isPlatformError(error)) this.options.events.onError?.(error);
  }

  /** the events of one activation: a feed that was replaced says nothing any more */
  private eventsFor(slot: Slot, generation: number): MarketEvents {
    const current = () => this.active?.generation === generation || this.active === undefined;
    const { events } = this.options;
    return {
      trade: (trade) => {
        if (!current()) return;
        slot.lastEventAt = this.now();
        events.trade(trade);
      },
      quote: (quote) => {
        if (!current()) return;
        slot.lastEventAt = this.now();
        events.quote(quote);
      },
      bar: (bar) => {
        if (!current()) return;
        slot.lastEventAt = this.now();
        this.noteMinute(bar);
        events.bar(bar);
      },
      interrupted: () => {
        // the source is reconnecting by itself; the gap is filled when it resumes or hands over
      },
      resumed: () => {
        if (this.active?.generation !== generation) return;
        this.serialized(() => this.backfillGap()).catch((error) => events.onError?.(error));
      },
      failed: (error) => {
        if (this.active?.generation !== generation) return;
        this.recordFailure(slot, error);
        const index = this.active.index;
        const feed = this.active.feed;
        this.serialized(async () => {
          if (this.active?.generation !== generation) return;
          this.active = undefined;
          await feed.stop();
          await this.connectFrom(index + 1, `${slot.source.name} failed: ${error.code}`);
        }).catch((e) => events.onError?.(e));
      },
    };
  }

  private noteMinute(bar: MarketBar): void {
    if (bar.timeframe !== "1m") return;
    const last = this.lastMinute.get(bar.symbol);
    if (last === undefined || bar.start > last) this.lastMinute.set(bar.symbol, bar.start);
  }

  /**
   * minute bars after each symbol's last one, up to the last whole minute that ended `graceMs`
   * ago, from history
   */
  private async backfillGap(graceMs = 0): Promise<void> {
    const now = this.now() - graceMs;
    const to = now - (now % MINUTE);
    const bySince = new Map<number, string[]>();
    for (const symbol of this.options.symbols) {
      const last = this.lastMinute.get(symbol);
      if (last === undefined) continue;
      const since = Math.max(
        last + MINUTE,
        this.checkedUntil.get(symbol) ?? 0,
        to - (this.options.maxBackfillMs ?? 7 * 86_400_000),
      );
      if (since >= to) continue;
      bySince.set(since, [...(bySince.get(since) ?? []), symbol]);
    }
    for (const [from, symbols] of bySince) {
      if (await this.backfill(symbols, from, to))
        for (const symbol of symbols) this.checkedUntil.set(symbol, to);
    }
  }

  private async backfill(symbols: string[], from: number, to: number): Promise<boolean> {
    const order = this.active ? [this.active.index, ...this.slots.keys()] : [...this.slots.keys()];
    const errors: unknown[] = [];
    for (const index of new Set(order)) {
      const slot = this.slots[index]!;
      if (slot.state === "unauthorized") continue;
      let count = 0;
      try {
        for await (const page of slot.source.history({ symbols, timeframe: "1m", from, to })) {
          for (const bar of page) {
            this.noteMinute(bar);
            this.options.events.bar({ ...bar, source: `backfill:${slot.source.name}` });
            count++;
          }
        }
        this.options.events.backfilled?.({ source: slot.source.name, bars: count, from, to });
        return true;
      } catch (error) {
        errors.push(error);
      }
    }
    this.options.events.onError?.(
      new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, "no source could back-fill the gap", {
        cause: new AggregateError(errors),
      }),
    );
    return false;
  }
}
