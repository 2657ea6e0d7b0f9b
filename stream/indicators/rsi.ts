/**
 * Relative Strength Index, Wilder (New Concepts in Technical Trading Systems, 1978): the first
 * average gain and loss are the plain means of the first `period` changes; after that each is
 * smoothed as `avg = (avg * (period - 1) + current) / period`. RSI = 100 - 100 / (1 + gain / loss),
 * 100 when there was no loss. The first value needs `period + 1` closes.
 */
export interface RsiState {
  readonly period: number;
  previous: number | null;
  changes: number;
  avgGain: number;
  avgLoss: number;
}

export function rsiInit(period = 14): RsiState {
  if (!Number.isInteger(period) || period < 1)
    throw new RangeError(`RSI period must be a positive integer, got ${period}`);
  return { period, previous: null, changes: 0, avgGain: 0, avgLoss: 0 };
}

export function rsiStep(state: RsiState, close: number): number | null {
  const previous = state.previous;
  state.previous = close;
  if (previous === null) return null;
  const change = close - previous;
  const gain = Math.max(change, 0);
  const loss = Math.max(-change, 0);
  const n = state.period;
  state.changes++;
  if (state.changes <= n) {
    state.avgGain += gain / n;
    state.avgLoss += loss / n;
    if (state.changes < n) return null;
  } else {
    state.avgGain = (state.avgGain * (n - 1) + gain) / n;
    state.avgLoss = (state.avgLoss * (n - 1) + loss) / n;
  }
  if (state.avgLoss === 0) return state.avgGain === 0 ? 50 : 100;
  return 100 - 100 / (1 + state.avgGain / state.avgLoss);
}

export function rsi(closes: readonly number[], period = 14): (number | null)[] {
  const state = rsiInit(period);
  return closes.map((x) => rsiStep(state, x));
}
