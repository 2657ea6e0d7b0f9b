import { describe, expect, test } from "bun:test";
import { bollinger } from "../../../stream/indicators/bollinger.ts";
import { indicatorSetInit, indicatorSetStep } from "../../../stream/indicators/indicator-set.ts";
import { macd } from "../../../stream/indicators/macd.ts";
import { vwap } from "../../../stream/indicators/vwap.ts";

describe("Bollinger bands", () => {
  // window 2,4,6: mean 4, population variance (4+0+4)/3 = 8/3, sd = 1.63299..; k = 2
  test("are the SMA plus and minus k population standard deviations", () => {
    const bands = bollinger([2, 4, 6], 3, 2).at(-1)!;
    const sd = Math.sqrt(8 / 3);
    expect(bands.middle).toBeCloseTo(4, 12);
    expect(bands.upper).toBeCloseTo(4 + 2 * sd, 12);
    expect(bands.lower).toBeCloseTo(4 - 2 * sd, 12);
  });

  test("collapse onto the mean for a flat series", () => {
    expect(bollinger([7, 7, 7, 7], 3, 2).at(-1)).toEqual({ upper: 7, middle: 7, lower: 7 });
  });
});

describe("MACD", () => {
  // fast EMA(2) k=2/3, slow EMA(3) k=1/2, signal EMA(2); closes 1,2,3,4,5,6
  // fast: -, 1.5, 2.5, 3.5, 4.5, 5.5   slow: -, -, 2, 3, 4, 5
  // macd: -, -, 0.5, 0.5, 0.5, 0.5     signal: -, -, -, 0.5, 0.5, 0.5
  test("is the fast EMA minus the slow EMA, its signal an EMA of it", () => {
    const values = macd([1, 2, 3, 4, 5, 6], 2, 3, 2);
    expect(values.map((v) => v.macd)).toEqual([null, null, 0.5, 0.5, 0.5, 0.5]);
    expect(values.map((v) => v.signal)).toEqual([null, null, null, 0.5, 0.5, 0.5]);
    expect(values.at(-1)!.histogram).toBeCloseTo(0, 12);
  });

  test("refuses a fast period that is not shorter than the slow one", () => {
    expect(() => macd([1], 26, 12)).toThrow(RangeError);
  });
});

describe("VWAP", () => {
  test("weights each bar's typical price by its volume and restarts with the session", () => {
    const bars = [
      { high: 12, low: 9, close: 9, volume: 100, session: "2024-01-02" }, // typical 10
      { high: 13, low: 11, close: 12, volume: 300, session: "2024-01-02" }, // typical 12
      { high: 21, low: 19, close: 20, volume: 50, session: "2024-01-03" }, // typical 20
    ];
    expect(vwap(bars)).toEqual([10, (10 * 100 + 12 * 300) / 400, 20]);
  });

  test("is null while the session has traded no volume", () => {
    expect(vwap([{ high: 1, low: 1, close: 1, volume: 0, session: "d" }])).toEqual([null]);
  });
});

describe("the indicator set", () => {
  test("warms up each indicator at its own length and survives a JSON round trip", () => {
    let state = indicatorSetInit();
    let last: ReturnType<typeof indicatorSetStep> | undefined;
    for (let i = 0; i < 40; i++) {
      if (i === 30) state = JSON.parse(JSON.stringify(state));
      const close = 100 + Math.sin(i / 3) * 5;
      last = indicatorSetStep(state, { high: close + 1, low: close - 1, close, volume: 1000, session: "s" });
      if (i === 18) expect(last.sma_20).toBeNull();
      if (i === 19) expect(last.sma_20).not.toBeNull();
    }
    expect(Object.values(last!).every((v) => v !== null && Number.isFinite(v))).toBe(true);
  });
});
