import { BoundedMap } from "../../../messages/bounded-map.ts";
import { newYorkInstant, newYorkTime } from "../../../stream/indicators/new-york-time.ts";
import { createPrng, type Prng } from "../../iot/prng.ts";
import { sessionOf, shiftDays, type TradingSession } from "../calendar/nyse-calendar.ts";
import { fnv1a } from "./symbol-hash.ts";
import { intradayVolumeWeight } from "./volume-profile.ts";

/**
 * The simulated market: one deterministic world per seed, the same for the live stream, the REST
 * history and every process that asks.
 *
 * Price: geometric Brownian motion with jumps (Merton 1976) per symbol. Day by day from a base
 * date, each close is `prevClose * exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z + J)`, J a normal
 * jump with probability `jumpPerDay`; the day opens at a small gap from the previous close.
 * Inside the session a Brownian bridge with its own jumps runs from the open to the close, one
 * step per minute, so minute bars aggregate exactly into the daily bar the same model gives.
 * Volume: a daily volume spread over the minutes by the intraday U profile (volume-profile.ts),
 * with noise. Trades: each minute's bar is cut into `n` trades that reproduce its open, high,
 * low, close and volume exactly, so bars built from the live trades equal the REST bars of the
 * same minutes, which is what lets the chain back-fill a gap without a seam.
 *
 * Sessions follow the NYSE calendar (`hours: "calendar"`), or every day around the clock
 * (`hours: "always"`) so a demo streams at any hour.
 */
export interface MarketModelOptions {
  readonly seed: number;
  readonly hours: "calendar" | "always";
  /** mean trades per minute per symbol (the profile shapes it over the day); at least 4 */
  readonly tradesPerMinute?: number;
  readonly jumpPerDay?: number;
  /** spread volume and trades evenly over the session (benchmarks want a steady rate) */
  readonly flatProfile?: boolean;
}

export interface SimBar {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly tradeCount: number;
  readonly vwap: number;
}

export interface SimTrade {
  readonly timestamp: number;
  readonly price: number;
  readonly size: number;
  readonly id: number;
}

interface SymbolProfile {
  readonly startPrice: number;
  readonly sigma: number;
  readonly mu: number;
  readonly dailyVolume: number;
}

interface DayPlan {
  readonly open: number;
  readonly close: number;
  readonly volume: number;
}

const BASE_DATE = "2010-01-04";
/** minute-bar fields in the cached Float64Array */
const F = { start: 0, open: 1, high: 2, low: 3, close: 4, volume: 5, count: 6, vwap: 7 } as const;
const FIELDS = 8;
const MINUTE_CACHE_DAYS = 512;

const cents = (x: number) => Math.round(x * 100) / 100;

export class MarketModel {
  private readonly tradesPerMinute: number;
  /** a session's share of a year: 1/252 trading days, or 1/365 around the clock */
  private readonly dt: number;
  private readonly jumpPerDay: number;
  /** session dates from the base date, and each date's index */
  private readonly dates: string[] = [];
  private readonly dateIndex = new Map<string, number>();
  private readonly sessions: TradingSession[] = [];
  private readonly plans = new Map<string, DayPlan[]>();
  private readonly minutes = new BoundedMap<string, Float64Array>(MINUTE_CACHE_DAYS);
  private readonly daily = new Map<string, SimBar>();

  constructor(private readonly options: MarketModelOptions) {
    this.tradesPerMinute = Math.max(4, options.tradesPerMinute ?? 20);
    this.jumpPerDay = options.jumpPerDay ?? 0.02;
    this.dt = options.hours === "calendar" ? 1 / 252 : 1 / 365;
  }

  /** the session of a New York date, or undefined when the (simulated) market is closed */
  session(date: string): TradingSession | undefined {
    if (this.options.hours === "calendar") return sessionOf(date);
    const next = shiftDays(date, 1);
    return { date, openMs: newYorkInstant(date, 0), closeMs: newYorkInstant(next, 0), halfDay: false };
  }

  /** the session in progress at an instant */
  sessionAt(epochMs: number): TradingSession | undefined {
    const session = this.session(newYorkTime(epochMs).date);
    return session && epochMs >= session.openMs && epochMs < session.closeMs ? session : undefined;
  }

  /** the sessions whose days fall in [fromMs, toMs), oldest first */
  *sessionsBetween(fromMs: number, toMs: number): Generator<TradingSession> {
    const last = newYorkTime(Math.max(fromMs, toMs - 1)).date;
    let date = newYorkTime(fromMs).date;
    if (date < BASE_DATE) date = BASE_DATE;
    for (; date <= last; date = shiftDays(date, 1)) {
      const session = this.sessionFromChain(date);
      if (session && session.closeMs > fromMs && session.openMs < toMs) yield session;
    }
  }

  /** one-minute bars of a session (cached) */
  minuteBars(symbol: string, session: TradingSession): SimBar[] {
    const data = this.minuteData(symbol, session);
    const bars: SimBar[] = [];
    for (let i = 0; i < data.length / FIELDS; i++) bars.push(this.barAt(data, i));
    return bars;
  }

  /** the one-minute bar starting at `minuteStart`, if the market trades then */
  minuteBar(symbol: string, minuteStart: number): SimBar | undefined {
    const session = this.sessionAt(minuteStart);
    if (!session) return undefined;
    const i = Math.floor((minuteStart - session.openMs) / 60_000);
    return this.barAt(this.minuteData(symbol, session), i);
  }

  /** the daily bar of a session: the aggregate of its minutes, `start` New York midnight */
  dailyBar(symbol: string, session: TradingSession): SimBar {
    const key = `${symbol}|${session.date}`;
    const cached = this.daily.get(key);
    if (cached) return cached;
    const bar = aggregate(newYorkInstant(session.date, 0), this.minuteBars(symbol, session));
    this.daily.set(key, bar);
    return bar;
  }

  /**
   * Bars of `timeframeMs` in [fromMs, toMs), oldest first, aggregated from minute bars and aligned
   * to the epoch (as Alpaca aligns intraday bars); a day (86,400,000) gives daily bars. Lazy, so
   * a page of a long range computes only the days it returns.
   */
  *iterateBars(symbol: string, timeframeMs: number, fromMs: number, toMs: number): Generator<SimBar> {
    for (const session of this.sessionsBetween(fromMs, toMs)) {
      if (timeframeMs >= 86_400_000) {
        const bar = this.dailyBar(symbol, session);
        if (bar.start >= fromMs && bar.start < toMs) yield bar;
        continue;
      }
      let bucket: SimBar[] = [];
      let bucketStart = Number.NaN;
      for (const minute of this.minuteBars(symbol, session)) {
        if (minute.start < fromMs || minute.start >= toMs) continue;
        const start = minute.start - (minute.start % timeframeMs);
        if (start !== bucketStart && bucket.length > 0) {
          yield aggregate(bucketStart, bucket);
          bucket = [];
        }
        bucketStart = start;
        bucket.push(minute);
      }
      if (bucket.length > 0) yield aggregate(bucketStart, bucket);
    }
  }

  bars(symbol: string, timeframeMs: number, fromMs: number, toMs: number): SimBar[] {
    return [...this.iterateBars(symbol, timeframeMs, fromMs, toMs)];
  }

  /**
   * The trades of one minute: the first at the bar's open, the last at its close, one at its high
   * and one at its low, the others inside the range; sizes sum to the bar's volume.
   */
  trades(symbol: string, minuteStart: number): SimTrade[] {
    const bar = this.minuteBar(symbol, minuteStart);
    if (!bar) return [];
    const rng = createPrng(fnv1a(`${this.options.seed}:t:${symbol}:${minuteStart}`));
    const n = bar.tradeCount;
    const times = Array.from({ length: n }, () => Math.floor(rng.next() * 60_000)).sort((a, b) => a - b);
    const highAt = 1 + Math.floor(rng.next() * (n - 2));
    let lowAt = 1 + Math.floor(rng.next() * (n - 2));
    if (lowAt === highAt) lowAt = highAt === 1 ? n - 2 : 1;
    const weights = Array.from({ length: n }, () => rng.next() + 0.05);
    const prices = times.map((_t, i) => {
      if (i === 0) return bar.open;
      if (i === n - 1) return bar.close;
      if (i === highAt) return bar.high;
      if (i === lowAt) return bar.low;
      return cents(bar.low + rng.next() * (bar.high - bar.low));
    });
    const tilted = tiltTowardVwap(weights, prices, bar);
    const weightSum = tilted.reduce((a, b) => a + b, 0);
    const spare = bar.volume - n;
    const sizes = tilted.map((w) => 1 + Math.floor((spare * w) / weightSum));
    sizes[n - 1]! += bar.volume - sizes.reduce((a, b) => a + b, 0);
    const idBase = (fnv1a(symbol) % 1000) * 1e9 + Math.floor(minuteStart / 60_000) * 1000;
    return times.map((t, i) => ({
      timestamp: minuteStart + t,
      price: prices[i]!,
      size: sizes[i]!,
      id: idBase + i,
    }));
  }

  private barAt(data: Float64Array, i: number): SimBar {
    const o = i * FIELDS;
    return {
      start: data[o + F.start]!,
      open: data[o + F.open]!,
      high: data[o + F.high]!,
      low: data[o + F.low]!,
      close: data[o + F.close]!,
      volume: data[o + F.volume]!,
      tradeCount: data[o + F.count]!,
      vwap: data[o + F.vwap]!,
    };
  }

  private profile(symbol: string): SymbolProfile {
    const h = fnv1a(`${this.options.seed}:${symbol}`);
    return {
      startPrice: 20 + (h % 28_000) / 100,
      sigma: 0.15 + ((h >>> 8) % 20) / 100,
      mu: 0.02 + ((h >>> 16) % 5) / 100,
      dailyVolume: 1_000_000 + ((h >>> 4) % 40_000) * 1000,
    };
  }

  /** the session of a date, with the chain of session dates extended up to it */
  private sessionFromChain(date: string): TradingSession | undefined {
    this.extendChain(date);
    const index = this.dateIndex.get(date);
    return index === undefined ? undefined : this.sessions[index];
  }

  private extendChain(until: string): void {
    let date = this.dates.length === 0 ? BASE_DATE : shiftDays(this.dates.at(-1)!, 1);
    for (; date <= until; date = shiftDays(date, 1)) {
      const session = this.session(date);
      if (!session) continue;
      this.dateIndex.set(date, this.dates.length);
      this.dates.push(date);
      this.sessions.push(session);
    }
  }

  /** the day plans (open, close, volume) of a symbol up to a session index */
  private plan(symbol: string, index: number): DayPlan {
    let plans = this.plans.get(symbol);
    if (!plans) {
      plans = [];
      this.plans.set(symbol, plans);
    }
    const p = this.profile(symbol);
    const sd = p.sigma * Math.sqrt(this.dt);
    while (plans.length <= index) {
      const i = plans.length;
      const rng = createPrng(fnv1a(`${this.options.seed}:d:${symbol}:${this.dates[i]}`));
      const previous = i === 0 ? p.startPrice : plans[i - 1]!.close;
      const jump = rng.chance(this.jumpPerDay) ? rng.gaussian(0, 0.04) : 0;
      const open = previous * Math.exp(rng.gaussian(0, sd * 0.3));
      const close =
        previous * Math.exp((p.mu - (p.sigma * p.sigma) / 2) * this.dt + sd * rng.gaussian() + jump);
      const volume = p.dailyVolume * Math.exp(rng.gaussian(0, 0.25) + Math.abs(jump) * 10);
      plans.push({ open: cents(Math.max(0.5, open)), close: cents(Math.max(0.5, close)), volume });
    }
    return plans[index]!;
  }

  private minuteData(symbol: string, session: TradingSession): Float64Array {
    const key = `${symbol}|${session.date}`;
    // least recently used goes first: a use renews
    const cached = this.minutes.touch(key);
    if (cached) return cached;
    this.extendChain(session.date);
    const index = this.dateIndex.get(session.date);
    if (index === undefined) throw new RangeError(`no session on ${session.date}`);
    const plan = this.plan(symbol, index);
    const data = this.bridge(symbol, session, plan);
    this.minutes.set(key, data);
    return data;
  }

  /** the Brownian bridge (with jumps) from the day's open to its close, one step a minute */
  private bridge(symbol: string, session: TradingSession, plan: DayPlan): Float64Array {
    const n = Math.round((session.closeMs - session.openMs) / 60_000);
    const p = this.profile(symbol);
    const rng: Prng = createPrng(fnv1a(`${this.options.seed}:m:${symbol}:${session.date}`));
    const stepSd = (p.sigma * Math.sqrt(this.dt)) / Math.sqrt(n);
    const path = new Float64Array(n + 1);
    for (let i = 1; i <= n; i++) {
      const jump = rng.next() < 1 / 1500 ? rng.gaussian(0, stepSd * 8) : 0;
      path[i] = path[i - 1]! + stepSd * rng.gaussian() + jump;
    }
    const target = Math.log(plan.close / plan.open);
    const data = new Float64Array(n * FIELDS);
    let previousClose = plan.open;
    for (let i = 0; i < n; i++) {
      const bridged = path[i + 1]! - ((i + 1) / n) * (path[n]! - target);
      const close = i === n - 1 ? plan.close : cents(plan.open * Math.exp(bridged));
      const open = previousClose;
      const wiggle = stepSd * 0.6;
      const high = cents(Math.max(open, close) * (1 + rng.next() * wiggle));
      const low = cents(Math.min(open, close) * (1 - rng.next() * wiggle));
      const weight = this.options.flatProfile ? 1 : intradayVolumeWeight((i + 0.5) / n);
      const count = Math.max(4, Math.round(this.tradesPerMinute * weight * (0.6 + 0.8 * rng.next())));
      const volume = Math.max(count, Math.round((plan.volume / n) * weight * (0.6 + 0.8 * rng.next())));
      const o = i * FIELDS;
      data[o + F.start] = session.openMs + i * 60_000;
      data[o + F.open] = open;
      data[o + F.high] = high;
      data[o + F.low] = low;
      data[o + F.close] = close;
      data[o + F.volume] = volume;
      data[o + F.count] = count;
      data[o + F.vwap] = Math.round(((high + low + close) / 3) * 10_000) / 10_000;
      previousClose = close;
    }
    return data;
  }
}

/**
 * Weights for the trades' sizes whose price-weighted mean is the bar's vwap: each weight is
 * tilted by exp(lambda x), x the trade's place in the bar's range, lambda found by bisection (the
 * weighted mean rises with lambda). So the trades of a minute rebuild its vwap too (within the
 * whole-share rounding of the sizes), as a real feed's trades rebuild its bars: a minute built
 * from the stream and the same minute from history agree, and a back-filled gap leaves no seam.
 */
function tiltTowardVwap(weights: readonly number[], prices: readonly number[], bar: SimBar): number[] {
  const range = bar.high - bar.low;
  if (range <= 0) return [...weights];
  const place = prices.map((p) => (p - bar.vwap) / range);
  const tilted = (lambda: number) => weights.map((w, i) => w * Math.exp(lambda * place[i]!));
  const meanPlace = (lambda: number) => {
    const w = tilted(lambda);
    let sum = 0;
    let weighted = 0;
    for (let i = 0; i < w.length; i++) {
      sum += w[i]!;
      weighted += w[i]! * place[i]!;
    }
    return weighted / sum;
  };
  let low = -40;
  let high = 40;
  for (let step = 0; step < 40; step++) {
    const mid = (low + high) / 2;
    if (meanPlace(mid) < 0) low = mid;
    else high = mid;
  }
  return tilted((low + high) / 2);
}

/** one bar from consecutive bars: first open, last close, extremes, sums, volume-weighted vwap */
function aggregate(start: number, bars: readonly SimBar[]): SimBar {
  let high = Number.NEGATIVE_INFINITY;
  let low = Number.POSITIVE_INFINITY;
  let volume = 0;
  let count = 0;
  let priceVolume = 0;
  for (const bar of bars) {
    if (bar.high > high) high = bar.high;
    if (bar.low < low) low = bar.low;
    volume += bar.volume;
    count += bar.tradeCount;
    priceVolume += bar.vwap * bar.volume;
  }
  return {
    start,
    open: bars[0]!.open,
    high,
    low,
    close: bars.at(-1)!.close,
    volume,
    tradeCount: count,
    vwap: volume === 0 ? bars.at(-1)!.close : Math.round((priceVolume / volume) * 10_000) / 10_000,
  };
}
