import { type EmaState, emaInit, emaStep } from "./moving-averages.ts";

/**
 * MACD (Appel): the fast EMA minus the slow EMA of the closes (12 and 26 by default), its signal
 * line an EMA of the MACD (9), and the histogram MACD minus signal. The MACD line starts when the
 * slow EMA does; the signal `signal` MACD values later.
 */
export interface MacdState {
  fast: EmaState;
  slow: EmaState;
  signal: EmaState;
}

export interface MacdValue {
  readonly macd: number | null;
  readonly signal: number | null;
  readonly histogram: number | null;
}

export function macdInit(fast = 12, slow = 26, signal = 9): MacdState {
  if (fast >= slow)
    throw new RangeError(`MACD fast period (${fast}) must be shorter than the slow one (${slow})`);
  return { fast: emaInit(fast), slow: emaInit(slow), signal: emaInit(signal) };
}

export function macdStep(state: MacdState, close: number): MacdValue {
  const fast = emaStep(state.fast, close);
  const slow = emaStep(state.slow, close);
  if (fast === null || slow === null) return { macd: null, signal: null, histogram: null };
  const macd = fast - slow;
  const signal = emaStep(state.signal, macd);
  return { macd, signal, histogram: signal === null ? null : macd - signal };
}

export function macd(closes: readonly number[], fast = 12, slow = 26, signal = 9): MacdValue[] {
  const state = macdInit(fast, slow, signal);
  return closes.map((x) => macdStep(state, x));
}
