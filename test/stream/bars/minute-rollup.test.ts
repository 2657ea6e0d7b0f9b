import { describe, expect, test } from "bun:test";
import {
  addMinute,
  closeWindows,
  type MinuteBar,
  minuteRollupInit,
} from "../../../stream/bars/minute-rollup.ts";

/** The revision rule of the 5m bars rolled up from minutes, case by case. */
const M = 60_000;
const LATENESS = 10 * M;

const minute = (
  at: number,
  close: number,
  options: { fromHistory?: boolean; volume?: number } = {},
): MinuteBar => ({
  start: at * M,
  open: close,
  high: close + 1,
  low: close - 1,
  close,
  volume: options.volume ?? 10,
  priceVolume: close * (options.volume ?? 10),
  count: 2,
  fromHistory: options.fromHistory ?? false,
});

type Step = { add: MinuteBar } | { closeAt: number };

describe("minute roll-up", () => {
  test.each<[string, Step[], { emitted5m: [number, number, number][]; minutes: number[]; late: number }]>([
    [
      "a window closes when the minute frontier passes its end",
      [{ add: minute(0, 10) }, { add: minute(4, 14) }, { add: minute(5, 15) }],
      { emitted5m: [[0, 0, 20]], minutes: [0, 0, 0], late: 0 },
    ],
    [
      "a window with no minutes emits nothing",
      [{ add: minute(0, 10) }, { add: minute(12, 12) }],
      { emitted5m: [[0, 0, 10]], minutes: [0, 0], late: 0 },
    ],
    [
      "a quiet symbol's window closes by processing time",
      [{ add: minute(1, 10) }, { closeAt: 5 * M }],
      { emitted5m: [[0, 0, 10]], minutes: [0], late: 0 },
    ],
    [
      "a back-filled minute of a closed window within the lateness revises it",
      [{ add: minute(1, 10) }, { add: minute(6, 11) }, { add: minute(2, 12, { fromHistory: true }) }],
      {
        emitted5m: [
          [0, 0, 10],
          [0, 1, 20],
        ],
        minutes: [0, 0, 0],
        late: 0,
      },
    ],
    [
      "a back-filled minute replaces the symbol's own (partial) one: a new revision of the minute",
      [
        { add: minute(1, 10, { volume: 4 }) },
        { add: minute(1, 10, { fromHistory: true }) },
        { add: minute(5, 11) },
      ],
      { emitted5m: [[0, 0, 10]], minutes: [0, 1, 0], late: 0 },
    ],
    [
      "a minute built from trades never replaces a back-filled one",
      [{ add: minute(1, 10, { fromHistory: true }) }, { add: minute(1, 9) }, { add: minute(5, 11) }],
      { emitted5m: [[0, 0, 10]], minutes: [0, 0], late: 0 },
    ],
    [
      "the same minute again changes nothing",
      [{ add: minute(1, 10) }, { add: minute(1, 10) }, { add: minute(5, 11) }],
      { emitted5m: [[0, 0, 10]], minutes: [0, 0], late: 0 },
    ],
    [
      "a minute later than the allowed lateness is counted late, not merged",
      [{ add: minute(1, 10) }, { add: minute(30, 11) }, { add: minute(2, 12, { fromHistory: true }) }],
      { emitted5m: [[0, 0, 10]], minutes: [0, 0, 0], late: 1 },
    ],
  ])("%s", (_name, steps, expected) => {
    const state = minuteRollupInit({ "5m": 5 * M });
    const emitted5m: [number, number, number][] = [];
    const minutes: number[] = [];
    for (const step of steps) {
      const bars =
        "add" in step
          ? (() => {
              const outcome = addMinute(state, step.add, LATENESS);
              if (outcome.minute) minutes.push(outcome.minute.revision);
              return outcome.bars;
            })()
          : closeWindows(state, step.closeAt);
      for (const { bar } of bars) emitted5m.push([bar.start / M, bar.revision, bar.volume]);
    }
    expect({ emitted5m, minutes, late: state.late }).toEqual(expected);
  });

  test("a window's bar combines its minutes exactly: first open, last close, extremes, sums, volume-weighted vwap", () => {
    const state = minuteRollupInit({ "5m": 5 * M });
    addMinute(state, { ...minute(0, 10), open: 9, volume: 10, priceVolume: 100 }, LATENESS);
    addMinute(state, { ...minute(3, 12), high: 20, volume: 30, priceVolume: 390 }, LATENESS);
    const [closed] = addMinute(state, minute(5, 7), LATENESS).bars;
    expect(closed?.bar).toEqual({
      start: 0,
      open: 9,
      high: 20,
      low: 9,
      close: 12,
      volume: 40,
      vwap: 490 / 40,
      tradeCount: 4,
      revision: 0,
    });
  });

  test("memory stays bounded: minutes past every window's lateness are dropped", () => {
    const state = minuteRollupInit({ "5m": 5 * M, "1h": 60 * M });
    for (let i = 0; i < 10 * 60; i++) addMinute(state, minute(i, 10), LATENESS);
    // the open hour and the lateness before it, no more
    expect(state.minutes.length).toBeLessThanOrEqual(60 + LATENESS / M + 60);
    expect(state.windows["5m"]!.emitted.length).toBeLessThanOrEqual(LATENESS / (5 * M) + 1);
  });
});
