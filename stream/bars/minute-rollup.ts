/**
 * Longer bars (5m, 1h) rolled up from minute bars, with late minutes revising them.
 *
 * A symbol's minutes come from two places: the minute bars its trades built, and whole minutes a
 * source's history back-filled after a disconnect (which may arrive after the window they belong
 * to has closed). OHLCV combines exactly (open of the first minute, close of the last, high and
 * low the extremes, volume, price x volume and trade count summed), so a 5m bar rolled up from
 * the same minutes equals one built from the trades.
 *
 * Revision rule, as Flink fires a window again for late data within its allowed lateness:
 * - a window closes once the minute frontier (the end of the newest minute closed) passes its
 *   end, or by processing time for a symbol that went quiet (`closeWindows`); it is emitted with
 *   revision 0 when it holds any minute;
 * - a minute that arrives for a window already closed, while that window's end is within
 *   `allowedLatenessMs` of the watermark (the newest minute end seen), re-emits the window's bar
 *   from all its minutes with the next revision; later than that it is counted late, not merged;
 * - a back-filled minute replaces the symbol's own minute of the same start (history is the
 *   whole minute; the actor's may be partial after a disconnect); a minute built from trades
 *   never replaces a back-filled one; a minute equal to the one held changes nothing.
 * Consumers keep the highest revision per (symbol, timeframe, start), as an upsert does.
 *
 * Minutes are kept while a window they belong to can still change: until the largest window's
 * end falls behind the watermark by more than the allowed lateness. Plain data, for the changelog.
 */
export interface MinuteBar {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly priceVolume: number;
  readonly count: number;
  /** a whole minute from a source's history, not built from the trades seen */
  readonly fromHistory: boolean;
}

export interface RolledBar {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly vwap: number;
  readonly tradeCount: number;
  readonly revision: number;
}

export interface RollupWindows {
  readonly timeframeMs: number;
  /** windows starting before this are closed */
  closedBefore: number;
  /** revision last emitted per window start still within lateness, as [start, revision] pairs */
  emitted: [number, number][];
}

export interface MinuteRollupState {
  /** minutes by start, oldest first, with the revision each was last emitted with */
  minutes: (MinuteBar & { revision: number })[];
  /** by timeframe name */
  windows: Record<string, RollupWindows>;
  /** newest minute end seen (event time) */
  watermark: number;
  late: number;
}

export interface MinuteOutcome {
  /** the minute to emit (new, or a revision of one emitted before); undefined when nothing changed */
  readonly minute: RolledBar | undefined;
  /** longer bars closed or revised by it, by timeframe, oldest first */
  readonly bars: readonly { readonly timeframe: string; readonly bar: RolledBar }[];
}

const MINUTE_MS = 60_000;

export function minuteRollupInit(timeframes: Readonly<Record<string, number>>): MinuteRollupState {
  const windows: Record<string, RollupWindows> = {};
  for (const [name, timeframeMs] of Object.entries(timeframes))
    windows[name] = { timeframeMs, closedBefore: Number.NEGATIVE_INFINITY, emitted: [] };
  return { minutes: [], windows, watermark: Number.NEGATIVE_INFINITY, late: 0 };
}

/** takes one minute (closed from trades, or back-filled); answers what to emit */
export function addMinute(
  state: MinuteRollupState,
  minute: MinuteBar,
  allowedLatenessMs: number,
): MinuteOutcome {
  const at = state.minutes.findIndex((m) => m.start >= minute.start);
  const held = at >= 0 && state.minutes[at]!.start === minute.start ? state.minutes[at] : undefined;
  if (held && (sameMinute(held, minute) || (held.fromHistory && !minute.fromHistory)))
    return { minute: undefined, bars: [] };
  const revision = held ? held.revision + 1 : 0;
  const kept = { ...minute, revision };
  if (held) state.minutes[at] = kept;
  else if (at < 0) state.minutes.push(kept);
  else state.minutes.splice(at, 0, kept);
  const end = minute.start + MINUTE_MS;
  if (end > state.watermark) state.watermark = end;

  const bars: { timeframe: string; bar: RolledBar }[] = [];
  // the windows this minute revises (they closed before it came)
  for (const [timeframe, windows] of Object.entries(state.windows)) {
    const start = minute.start - (minute.start % windows.timeframeMs);
    if (start >= windows.closedBefore) continue;
    if (start + windows.timeframeMs <= state.watermark - allowedLatenessMs) {
      state.late++;
      continue;
    }
    const bar = rollUp(state, windows, start);
    if (bar) bars.push({ timeframe, bar });
  }
  // the windows the new frontier closes
  for (const [timeframe, windows] of Object.entries(state.windows))
    for (const bar of closeBefore(state, windows, end)) bars.push({ timeframe, bar });
  prune(state, allowedLatenessMs);
  return { minute: rolled([kept], kept.start, revision), bars };
}

/** closes the windows that ended at or before `time` (processing time, for a quiet symbol) */
export function closeWindows(
  state: MinuteRollupState,
  time: number,
): { readonly timeframe: string; readonly bar: RolledBar }[] {
  const bars: { timeframe: string; bar: RolledBar }[] = [];
  for (const [timeframe, windows] of Object.entries(state.windows))
    for (const bar of closeBefore(state, windows, time)) bars.push({ timeframe, bar });
  return bars;
}

function closeBefore(state: MinuteRollupState, windows: RollupWindows, time: number): RolledBar[] {
  const closable = time - (time % windows.timeframeMs);
  if (closable <= windows.closedBefore) return [];
  const bars: RolledBar[] = [];
  // only windows that hold minutes can emit; walk those, not every empty window of a long gap
  const starts = new Set<number>();
  for (const m of state.minutes) {
    const start = m.start - (m.start % windows.timeframeMs);
    if (start >= windows.closedBefore && start < closable) starts.add(start);
  }
  windows.closedBefore = closable;
  for (const start of [...starts].sort((a, b) => a - b)) {
    const bar = rollUp(state, windows, start);
    if (bar) bars.push(bar);
  }
  return bars;
}

/** the window's bar from its minutes, with the next revision; remembered as emitted */
function rollUp(state: MinuteRollupState, windows: RollupWindows, start: number): RolledBar | undefined {
  const end = start + windows.timeframeMs;
  const inside = state.minutes.filter((m) => m.start >= start && m.start < end);
  if (inside.length === 0) return undefined;
  const mark = windows.emitted.find(([s]) => s === start);
  const revision = mark ? mark[1] + 1 : 0;
  if (mark) mark[1] = revision;
  else windows.emitted.push([start, revision]);
  return rolled(inside, start, revision);
}

function rolled(minutes: readonly MinuteBar[], start: number, revision: number): RolledBar {
  let high = Number.NEGATIVE_INFINITY;
  let low = Number.POSITIVE_INFINITY;
  let volume = 0;
  let priceVolume = 0;
  let count = 0;
  for (const m of minutes) {
    if (m.high > high) high = m.high;
    if (m.low < low) low = m.low;
    volume += m.volume;
    priceVolume += m.priceVolume;
    count += m.count;
  }
  const close = minutes.at(-1)!.close;
  return {
    start,
    open: minutes[0]!.open,
    high,
    low,
    close,
    volume,
    vwap: volume === 0 ? close : priceVolume / volume,
    tradeCount: count,
    revision,
  };
}

/** drops minutes and emitted marks no window can revise any more */
function prune(state: MinuteRollupState, allowedLatenessMs: number): void {
  const horizon = state.watermark - allowedLatenessMs;
  let largest = MINUTE_MS;
  for (const windows of Object.values(state.windows)) {
    if (windows.timeframeMs > largest) largest = windows.timeframeMs;
    windows.emitted = windows.emitted.filter(([start]) => start + windows.timeframeMs > horizon);
  }
  // a minute stays while the largest window holding it is open or within lateness
  const keepFrom = horizon - (horizon % largest);
  const drop = state.minutes.findIndex((m) => m.start >= keepFrom);
  if (drop > 0) state.minutes.splice(0, drop);
  else if (drop < 0) state.minutes.length = 0;
}

function sameMinute(a: MinuteBar, b: MinuteBar): boolean {
  return (
    a.open === b.open &&
    a.high === b.high &&
    a.low === b.low &&
    a.close === b.close &&
    a.volume === b.volume &&
    a.count === b.count
  );
}
