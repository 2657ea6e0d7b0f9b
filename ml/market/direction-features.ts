import type { IndicatorSnapshot } from "../../messages/market.ts";

/**
 * The market model's inputs for one symbol at the close of a minute bar, and its label: does
 * the next minute close higher (1) or not (0)? One function for both sides of the model, the
 * training rows (a point-in-time join of `symbol_indicators_1m`) and the live bars (the symbol
 * actors' indicator snapshots), so training and serving cannot compute a feature two ways.
 *
 * Prices differ by orders of magnitude between symbols and drift over time, so every feature is
 * scale-free: a ratio of the close to an average, a spread in percent, an oscillator's value.
 * An indicator still warming up (null) is a missing value (NaN); the trees learn where it goes.
 */
export const MARKET_DIRECTION = "market-direction";

export const DIRECTION_FEATURES = [
  "return_1m",
  "rsi_14",
  "close_vs_sma_20",
  "ema_12_vs_ema_26",
  "macd_histogram_share",
  "bollinger_position",
  "bollinger_width",
  "close_vs_vwap",
] as const;

export type IndicatorValues = Pick<
  IndicatorSnapshot,
  | "close"
  | "sma_20"
  | "ema_12"
  | "ema_26"
  | "rsi_14"
  | "macd_histogram"
  | "bollinger_upper"
  | "bollinger_middle"
  | "bollinger_lower"
  | "vwap"
>;

/** `previousClose`: the close of the minute before, when that minute is known (else NaN) */
export function directionFeatures(values: IndicatorValues, previousClose: number | undefined): number[] {
  const close = values.close;
  const upper = values.bollinger_upper;
  const lower = values.bollinger_lower;
  return [
    previousClose !== undefined && previousClose > 0 ? close / previousClose - 1 : Number.NaN,
    values.rsi_14 ?? Number.NaN,
    ratio(close, values.sma_20),
    ratio(values.ema_12, values.ema_26),
    values.macd_histogram === null || close <= 0 ? Number.NaN : values.macd_histogram / close,
    upper === null || lower === null || upper <= lower ? Number.NaN : (close - lower) / (upper - lower),
    upper === null || lower === null || !values.bollinger_middle
      ? Number.NaN
      : (upper - lower) / values.bollinger_middle,
    ratio(close, values.vwap),
  ];
}

/** the label of a minute: 1 when the next minute closed above it, 0 otherwise (a tie is not up) */
export function directionLabel(close: number, nextClose: number): 0 | 1 {
  return nextClose > close ? 1 : 0;
}

function ratio(a: number | null, b: number | null): number {
  return a === null || b === null || b <= 0 ? Number.NaN : a / b - 1;
}
