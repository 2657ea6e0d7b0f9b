/**
 * Simple and exponential moving averages, incremental over plain-data state (so a symbol actor
 * can keep it in its changelog) with a batch form over a series for tests and back-fills.
 *
 * EMA follows the textbook convention (e.g. StockCharts, TA-Lib's default): the first value is
 * the SMA of the first `period` inputs, then `ema = (x - ema) * k + ema` with `k = 2 / (period + 1)`.
 * Until `period` inputs have been seen both answer null.
 */
export interface SmaState {
  readonly period: number;
  /** the last `period` inputs, oldest first */
  window: number[];
  sum: number;
}

export function smaInit(period: number): SmaState {
  if (!Number.isInteger(period) || period < 1)
    throw new RangeError(`SMA period must be a positive integer, got ${period}`);
  return { period, window: [], sum: 0 };
}

export function smaStep(state: SmaState, x: number): number | null {
  state.window.push(x);
  state.sum += x;
  if (state.window.length > state.period) state.sum -= state.window.shift()!;
  if (state.window.length < state.period) return null;
  return state.sum / state.period;
}

export interface EmaState {
  readonly period: number;
  /** inputs seen while warming up (their SMA seeds the EMA) */
  seen: number;
  seedSum: number;
  value: number | null;
}

export function emaInit(period: number): EmaState {
  if (!Number.isInteger(period) || period < 1)
    throw new RangeError(`EMA period must be a positive integer, got ${period}`);
  return { period, seen: 0, seedSum: 0, value: null };
}

export function emaStep(state: EmaState, x: number): number | null {
  if (state.value === null) {
    state.seen++;
    state.seedSum += x;
    if (state.seen < state.period) return null;
    state.value = state.seedSum / state.period;
    return state.value;
  }
  state.value = (x - state.value) * (2 / (state.period + 1)) + state.value;
  return state.value;
}

/** the SMA at every point of `series` (null while warming up) */
export function sma(series: readonly number[], period: number): (number | null)[] {
  const state = smaInit(period);
  return series.map((x) => smaStep(state, x));
}

/** the EMA at every point of `series` (null while warming up) */
export function ema(series: readonly number[], period: number): (number | null)[] {
  const state = emaInit(period);
  return series.map((x) => emaStep(state, x));
}
