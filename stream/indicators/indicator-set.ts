import { type BollingerState, bollingerInit, bollingerStep } from "./bollinger.ts";
import { type MacdState, macdInit, macdStep } from "./macd.ts";
import { type EmaState, emaInit, emaStep, type SmaState, smaInit, smaStep } from "./moving-averages.ts";
import { type RsiState, rsiInit, rsiStep } from "./rsi.ts";
import { type VwapState, vwapInit, vwapStep } from "./vwap.ts";

/**
 * The indicators a symbol actor keeps per timeframe, stepped once per closed bar: SMA(20),
 * EMA(12), EMA(26), RSI(14), MACD(12, 26, 9), Bollinger(20, 2) and the session VWAP. The state
 * is plain data (arrays and numbers), so it goes into the changelog as JSON and comes back as is.
 */
export interface IndicatorSetState {
  sma20: SmaState;
  ema12: EmaState;
  ema26: EmaState;
  rsi14: RsiState;
  macd: MacdState;
  bollinger: BollingerState;
  vwap: VwapState;
}

export interface IndicatorValues {
  readonly sma_20: number | null;
  readonly ema_12: number | null;
  readonly ema_26: number | null;
  readonly rsi_14: number | null;
  readonly macd: number | null;
  readonly macd_signal: number | null;
  readonly macd_histogram: number | null;
  readonly bollinger_upper: number | null;
  readonly bollinger_middle: number | null;
  readonly bollinger_lower: number | null;
  readonly vwap: number | null;
}

export function indicatorSetInit(): IndicatorSetState {
  return {
    sma20: smaInit(20),
    ema12: emaInit(12),
    ema26: emaInit(26),
    rsi14: rsiInit(14),
    macd: macdInit(12, 26, 9),
    bollinger: bollingerInit(20, 2),
    vwap: vwapInit(),
  };
}

export function indicatorSetStep(
  state: IndicatorSetState,
  bar: { high: number; low: number; close: number; volume: number; session: string },
): IndicatorValues {
  const close = bar.close;
  const macd = macdStep(state.macd, close);
  const bands = bollingerStep(state.bollinger, close);
  return {
    sma_20: smaStep(state.sma20, close),
    ema_12: emaStep(state.ema12, close),
    ema_26: emaStep(state.ema26, close),
    rsi_14: rsiStep(state.rsi14, close),
    macd: macd.macd,
    macd_signal: macd.signal,
    macd_histogram: macd.histogram,
    bollinger_upper: bands?.upper ?? null,
    bollinger_middle: bands?.middle ?? null,
    bollinger_lower: bands?.lower ?? null,
    vwap: vwapStep(state.vwap, bar),
  };
}
