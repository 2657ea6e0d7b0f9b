import {
  type IndicatorSnapshot,
  LIVE_TIMEFRAMES,
  type MarketAnomaly,
  type MarketBar,
  type MarketTrade,
  TIMEFRAME_MS,
  type Timeframe,
} from "../../messages/market.ts";
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
 * From its trades, in event time, it builds 1m, 5m and 1h bars; each closed bar steps the
 * timeframe's indicators (SMA, EMA, RSI, MACD, Bollinger, session VWAP; stream/indicators/) and
 * its anomaly rules (price jump, volume spike). Outputs: the bar (`market.bars.<tf>`), the
 * indicator snapshot (`market.indicators`, also the feature store's market features) and any
 * anomaly (`market.anomalies`). A trade replayed from the log (offset at or below the last one
 * applied) is skipped, so a bar counts each trade once across restarts.
 */
export type SymbolMessage =
  | { readonly type: "trade"; readonly trade: MarketTrade; readonly offset: number }
  | { readonly type: "tick" }
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" };

export interface SymbolState {
  lastOffset: number;
  bars: Record<string, TradeBarsState>;
  indicators: Record<string, IndicatorSetState>;
  anomalies: Record<string, AnomalyState>;
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
  /** a symbol without trades this long (processing time) closes its bars that ended */
  readonly idleCloseMs: number;
  readonly tickMs: number;
  readonly passivateAfterMs: number;
  readonly now: () => number;
  readonly timeframes?: readonly Timeframe[];
}

function freshState(timeframes: readonly Timeframe[]): SymbolState {
  const state: SymbolState = { lastOffset: -1, bars: {}, indicators: {}, anomalies: {}, lastTradeAt: 0 };
  for (const tf of timeframes) {
    state.bars[tf] = tradeBarsInit(tf, TIMEFRAME_MS[tf]);
    state.indicators[tf] = indicatorSetInit();
    state.anomalies[tf] = anomalyInit();
  }
  return state;
}

/** JSON has no -Infinity: the changelog form keeps "never" as null */
const toSnapshot = (state: SymbolState): unknown =>
  JSON.parse(JSON.stringify(state, (_k, v) => (v === Number.NEGATIVE_INFINITY ? null : v)));

function fromSnapshot(snapshot: unknown, timeframes: readonly Timeframe[]): SymbolState {
  const state = freshState(timeframes);
  if (!snapshot || typeof snapshot !== "object") return state;
  const saved = snapshot as SymbolState;
  state.lastOffset = saved.lastOffset ?? -1;
  state.lastTradeAt = saved.lastTradeAt ?? 0;
  for (const tf of timeframes) {
    const bars = saved.bars?.[tf];
    if (bars)
      state.bars[tf] = {
        ...bars,
        closedBefore: bars.closedBefore ?? Number.NEGATIVE_INFINITY,
        watermark: bars.watermark ?? Number.NEGATIVE_INFINITY,
      };
    if (saved.indicators?.[tf]) state.indicators[tf] = saved.indicators[tf]!;
    if (saved.anomalies?.[tf]) state.anomalies[tf] = saved.anomalies[tf]!;
  }
  return state;
}

export function symbolProps(deps: SymbolDeps): Props<SymbolMessage, SymbolState> {
  const timeframes = deps.timeframes ?? LIVE_TIMEFRAMES;
  const emit = (symbol: string, state: SymbolState, tf: Timeframe, closed: readonly ClosedBar[]) => {
    for (const bar of closed) {
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
        source: "symbol-actor",
      });
      const values = indicatorSetStep(state.indicators[tf]!, { ...bar, session: newYorkDate(bar.start) });
      deps.onIndicators({ symbol, timeframe: tf, bar_start: bar.start, close: bar.close, ...values });
      for (const anomaly of anomaliesOf(state.anomalies[tf]!, bar))
        deps.onAnomaly({ symbol, timeframe: tf, bar_start: bar.start, ...anomaly });
    }
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
          for (const tf of timeframes)
            emit(ctx.key, state, tf, closeUntil(state.bars[tf]!, deps.now() - deps.latenessMs));
          return;
        }
        case "trade": {
          if (message.offset <= state.lastOffset) return; // replayed from the log
          state.lastOffset = message.offset;
          state.lastTradeAt = deps.now();
          for (const tf of timeframes) {
            const bars = state.bars[tf]!;
            const lateBefore = bars.late;
            emit(ctx.key, state, tf, addTrade(bars, message.trade, deps.latenessMs));
            if (bars.late !== lateBefore) deps.onLate(ctx.key, tf);
          }
        }
      }
    },
  };
}
