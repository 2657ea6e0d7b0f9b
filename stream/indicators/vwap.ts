/**
 * Volume-weighted average price over a session: sum(typical price * volume) / sum(volume), with
 * the typical price (high + low + close) / 3 of each bar. It restarts when a bar of a new
 * session (trading day, by `sessionOf`) arrives, as charting packages do for intraday VWAP.
 */
export interface VwapState {
  session: string | null;
  priceVolume: number;
  volume: number;
}

export interface VwapBar {
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** the session the bar belongs to (e.g. its New York trading date) */
  readonly session: string;
}

export function vwapInit(): VwapState {
  return { session: null, priceVolume: 0, volume: 0 };
}

export function vwapStep(state: VwapState, bar: VwapBar): number | null {
  if (bar.session !== state.session) {
    state.session = bar.session;
    state.priceVolume = 0;
    state.volume = 0;
  }
  state.priceVolume += ((bar.high + bar.low + bar.close) / 3) * bar.volume;
  state.volume += bar.volume;
  return state.volume === 0 ? null : state.priceVolume / state.volume;
}

export function vwap(bars: readonly VwapBar[]): (number | null)[] {
  const state = vwapInit();
  return bars.map((bar) => vwapStep(state, bar));
}
