import { type SmaState, smaInit, smaStep } from "./moving-averages.ts";

/**
 * Bollinger bands (Bollinger, 2001): the middle band is the `period` SMA, the upper and lower
 * bands `k` population standard deviations of the same window above and below it (20 and 2 by
 * default, as Bollinger uses the population form).
 */
export interface BollingerState {
  readonly k: number;
  sma: SmaState;
}

export interface BollingerValue {
  readonly upper: number;
  readonly middle: number;
  readonly lower: number;
}

export function bollingerInit(period = 20, k = 2): BollingerState {
  return { k, sma: smaInit(period) };
}

export function bollingerStep(state: BollingerState, close: number): BollingerValue | null {
  const middle = smaStep(state.sma, close);
  if (middle === null) return null;
  let squares = 0;
  for (const x of state.sma.window) squares += (x - middle) ** 2;
  const sd = Math.sqrt(squares / state.sma.window.length);
  return { upper: middle + state.k * sd, middle, lower: middle - state.k * sd };
}

export function bollinger(closes: readonly number[], period = 20, k = 2): (BollingerValue | null)[] {
  const state = bollingerInit(period, k);
  return closes.map((x) => bollingerStep(state, x));
}
