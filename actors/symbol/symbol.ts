import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import {
  type IndicatorSnapshot,
  LIVE_TIMEFRAMES,
  type MarketAnomaly,
  MarketBar,
  MarketTrade,
  TIMEFRAME_MS,
  type Timeframe,
} from "../../messages/market.ts";
import {
  addMinute,
  closeWindows,
  type MinuteBar,
  type MinuteRollupState,
  minuteRollupInit,
  type RolledBar,
} from "../../stream/bars/minute-rollup.ts";
import {
  addTrade,
  type ClosedBar,
  closeUntil,
  type TradeBarsState,
  tradeBarsInit,
} from "../../stream/bars/trade-bars.ts";
import {
  type IndicatorSetState,
  indicatorSetInit,
  indicatorSetStep,
} from "../../stream/indicators/indicator-set.ts";
import { newYorkDate } from "../../stream/indicators/new-york-time.ts";
import type { Props } from "../../supervisor/actor.ts";
import { type AnomalyState, anomaliesOf, anomalyInit } from "./symbol-anomalies.ts";

/**
 * symbol/<SYMBOL>: one actor per symbol, sharded by the partition of `market.trades.raw` its
 * symbol hashes to (engine/repartitioned-aggregates.ts: a consumer group divides the partitions
 * among nodes; the owner runs the actors on its main thread, state in a changelog).
 *
 * From its trades, in event time, it builds minute bars; the 5m and 1h bars are rolled up from
 * the minutes (stream/bars/minute-rollup.ts), so a minute back-filled from a source's history
 * after a disconnect (it reaches the actor on the same topic as the trades, in order with them)
 * completes the longer bars too: a window still open takes it, a window already closed within
 * the allowed lateness is emitted again with the next `revision`. Each bar at its first emission
 * steps the timeframe's indicators (SMA, EMA, RSI, MACD, Bollinger, session VWAP;
 * stream/indicators/) and its anomaly rules (price jump, volume spike), in time order; a revision
 * does not step them again (their state has moved on). Outputs: the bar (`market.bars.<tf>`),
 * the indicator snapshot (`market.indicators`, also the feature store's market features) and any
 * anomaly (`market.anomalies`). A record replayed from the log (offset at or below the last one
 * applied) is skipped, so a bar counts each trade once across restarts.
 */
export type SymbolMessage =
  | { readonly type: "trade"; readonly trade: MarketTrade; readonly offset: number }
  | { readonly type: "minute"; readonly bar: MarketBar; readonly offset: number }
  | { readonly type: "tick" }
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" };

export interface SymbolState {
  lastOffset: number;
  /** the minute bars being built from trades */
  minuteBars: TradeBarsState;
  /** the minutes the longer bars are rolled up from */
  rollup: MinuteRollupState;
  indicators: Record<string, IndicatorSetState>;
  anomalies: Record<string, AnomalyState>;
  /** start of the last bar per timeframe that stepped the indicators */
  stepped: Record<string, number>;
  /** processing time of the last trade, to close a quiet symbol's bars */
  lastTradeAt: number;
}

export interface SymbolDeps {
  readonly onBar: (bar: MarketBar) => void;
  readonly onIndicators: (snapshot: IndicatorSnapshot) => void;
  readonly onAnomaly: (anomaly: MarketAnomaly) => void;
  readonly onLate: (symbol: string, timeframe: Timeframe) => void;
  readonly onState: (key: string, state: SymbolState) => void;
  /** out-of-orderness allowed in a symbol's trades before a bar closes */
  readonly latenessMs: number;
  /** how long after a longer bar closed a late minute still revises it; default 30 min */
  readonly allowedLatenessMs?: number;
  /** a symbol without trades this long (processing time) closes its bars that ended */
  readonly idleCloseMs: number;
  readonly tickMs: number;
  readonly passivateAfterMs: number;
  readonly now: () => number;
  /** the timeframes emitted; 1m is always built, the longer ones are rolled up from it */
  readonly timeframes?: readonly Timeframe[];
}

export const DEFAULT_ALLOWED_LATENESS_MS = 30 * 60_000;

/**
 * A record of the symbols' input topic as the actor's message: a trade, or a minute bar that a
 * source's history back-filled (multiple event types in one topic, so that the two keep their
 * order per symbol). Anything else is a SCHEMA_VIOLATION (a dead letter, not a crash).
 */
export function symbolInputOf(value: unknown, offset: number): SymbolMessage {
  const trade = MarketTrade.safeParse(value);
  if (trade.success) return { type: "trade", trade: trade.data, offset };
  const bar = MarketBar.safeParse(value);
  // only a back-filled minute belongs beside the trades: a bar the actors built is an output
  if (bar.success && bar.data.timeframe === "1m" && bar.data.source.startsWith("backfill:"))
    return { type: "minute", bar: bar.data, offset };
  throw new PlatformError(
    ErrorCodes.SCHEMA_VIOLATION,
    "record of market.trades.raw is neither a trade nor a back-filled minute bar",
  );
}

function freshState(timeframes: readonly Timeframe[]): SymbolState {
  const longer: Record<string, number> = {};
  for (const tf of timeframes) if (tf !== "1m") longer[tf] = TIMEFRAME_MS[tf];
  const state: SymbolState = {
    lastOffset: -1,
    minuteBars: tradeBarsInit("1m", TIMEFRAME_MS["1m"]),
    rollup: minuteRollupInit(longer),
    indicators: {},
    anomalies: {},
    stepped: {},
    lastTradeAt: 0,
  };
  for (const tf of timeframes) {
    state.indicators[tf] = indicatorSetInit();
    state.anomalies[tf] = anomalyInit();
  }
  return state;
}

/** JSON has no -Infinity: the changelog form keeps "never" as null */
const toSnapshot = (state: SymbolState): unknown =>
  JSON.parse(JSON.stringify(state, (_k, v) => (v === Number.NEGATIVE_INFINITY ? null : v)));
const never = (value: number | null | undefined) => value ?? Number.NEGATIVE_INFINITY;

function fromSnapshot(snapshot: unknown, timeframes: readonly Timeframe[]): SymbolState {
  const state = freshState(timeframes);
  if (!snapshot || typeof snapshot !== "object") return state;
  const saved = snapshot as Partial<SymbolState> & { bars?: Record<string, TradeBarsState> };
  state.lastOffset = saved.lastOffset ?? -1;
  state.lastTradeAt = saved.lastTradeAt ?? 0;
  // before the roll-up the 1m bars sat in `bars["1m"]`; the longer trade-built bars are dropped
  const minuteBars = saved.minuteBars ?? saved.bars?.["1m"];
  if (minuteBars)
    state.minuteBars = {
      ...minuteBars,
      closedBefore: never(minuteBars.closedBefore),
      watermark: never(minuteBars.watermark),
    };
  if (saved.rollup) {
    state.rollup = { ...saved.rollup, watermark: never(saved.rollup.watermark) };
    for (const [tf, windows] of Object.entries(saved.rollup.windows))
      state.rollup.windows[tf] = { ...windows, closedBefore: never(windows.closedBefore) };
  }
  if (saved.stepped) state.stepped = { ...saved.stepped };
  for (const tf of timeframes) {
    if (saved.indicators?.[tf]) state.indicators[tf] = saved.indicators[tf]!;
    if (saved.anomalies?.[tf]) state.anomalies[tf] = saved.anomalies[tf]!;
  }
  return state;
}

const tradeMinute = (bar: ClosedBar): MinuteBar => ({
  start: bar.start,
  open: bar.open,
  high: bar.high,
  low: bar.low,
  close: bar.close,
  volume: bar.volume,
  priceVolume: bar.vwap * bar.volume,
  count: bar.tradeCount,
  fromHistory: false,
});

const historyMinute = (bar: MarketBar): MinuteBar => ({
  start: bar.start,
  open: bar.open,
  high: bar.high,
  low: bar.low,
  close: bar.close,
  volume: bar.volume,
  priceVolume: (bar.vwap ?? bar.close) * bar.volume,
  count: bar.trade_count ?? 0,
  fromHistory: true,
});

export function symbolProps(deps: SymbolDeps): Props<SymbolMessage, SymbolState> {
  const timeframes = deps.timeframes ?? LIVE_TIMEFRAMES;
  const allowedLatenessMs = deps.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;

  const emit = (symbol: string, state: SymbolState, tf: Timeframe, bar: RolledBar, source: string) => {
    deps.onBar({
      symbol,
      timeframe: tf,
      start: bar.start,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      vwap: Math.round(bar.vwap * 10_000) / 10_000,
      trade_count: bar.tradeCount,
      source,
      ...(bar.revision > 0 ? { revision: bar.revision } : {}),
    });
    // indicators and anomalies follow each timeframe's bars once, in time order
    if (bar.revision > 0 || bar.start <= (state.stepped[tf] ?? Number.NEGATIVE_INFINITY)) return;
    state.stepped[tf] = bar.start;
    const values = indicatorSetStep(state.indicators[tf]!, { ...bar, session: newYorkDate(bar.start) });
    deps.onIndicators({ symbol, timeframe: tf, bar_start: bar.start, close: bar.close, ...values });
    for (const anomaly of anomaliesOf(state.anomalies[tf]!, bar))
      deps.onAnomaly({ symbol, timeframe: tf, bar_start: bar.start, ...anomaly });
  };
  const longer = (tf: string): tf is Timeframe =>
    tf !== "1m" && (timeframes as readonly string[]).includes(tf);

  /** a closed minute (from trades or history) and the longer bars it closes or revises */
  const takeMinute = (symbol: string, state: SymbolState, minute: MinuteBar, source: string) => {
    const lateBefore = state.rollup.late;
    const outcome = addMinute(state.rollup, minute, allowedLatenessMs);
    if (outcome.minute && timeframes.includes("1m")) emit(symbol, state, "1m", outcome.minute, source);
    for (const { timeframe, bar } of outcome.bars)
      if (longer(timeframe)) emit(symbol, state, timeframe, bar, "symbol-actor");
    if (state.rollup.late !== lateBefore) deps.onLate(symbol, "1h");
  };
  const takeTradeMinutes = (symbol: string, state: SymbolState, closed: readonly ClosedBar[]) => {
    for (const bar of closed) takeMinute(symbol, state, tradeMinute(bar), "symbol-actor");
  };

  return {
    kind: "symbol",
    mailbox: { capacity: 100_000, overflow: "backpressure" },
    passivateAfterMs: deps.passivateAfterMs,
    turnBudget: 1024,
    toSnapshot,
    initialState: (_key, snapshot) => fromSnapshot(snapshot, timeframes),
    onSignal(ctx, signal) {
      if (signal.type === "started" || signal.type === "restarted")
        ctx.startTimer("tick", deps.tickMs, { type: "tick" }, { repeat: true, keepsAlive: false });
    },
    receive(ctx, message) {
      const state = ctx.state;
      switch (message.type) {
        case "checkpoint":
          deps.onState(ctx.key, toSnapshot(state) as SymbolState);
          return;
        case "evict":
          ctx.stop();
          return;
        case "tick": {
          // a quiet symbol: bars that ended long enough ago close by processing time
          if (deps.now() - state.lastTradeAt < deps.idleCloseMs) return;
          const until = deps.now() - deps.latenessMs;
          takeTradeMinutes(ctx.key, state, closeUntil(state.minuteBars, until));
          for (const { timeframe, bar } of closeWindows(state.rollup, until))
            if (longer(timeframe)) emit(ctx.key, state, timeframe, bar, "symbol-actor");
          return;
        }
        case "trade": {
          if (message.offset <= state.lastOffset) return; // replayed from the log
          state.lastOffset = message.offset;
          state.lastTradeAt = deps.now();
          const lateBefore = state.minuteBars.late;
          takeTradeMinutes(ctx.key, state, addTrade(state.minuteBars, message.trade, deps.latenessMs));
          if (state.minuteBars.late !== lateBefore) deps.onLate(ctx.key, "1m");
          return;
        }
        case "minute": {
          if (message.offset <= state.lastOffset) return; // replayed from the log
          state.lastOffset = message.offset;
          const { bar } = message;
          const minutes = state.minuteBars;
          // the symbol's own minutes before this one are complete: they close first
          takeTradeMinutes(ctx.key, state, closeUntil(minutes, bar.start));
          // the whole minute from history supersedes what the trades of it built so far, and
          // trades of it that still come are late (they are in it)
          minutes.open = minutes.open.filter((open) => open.start !== bar.start);
          if (bar.start + TIMEFRAME_MS["1m"] > minutes.closedBefore)
            minutes.closedBefore = bar.start + TIMEFRAME_MS["1m"];
          takeMinute(ctx.key, state, historyMinute(bar), bar.source);
        }
      }
    },
  };
}
