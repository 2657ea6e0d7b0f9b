import { describe, expect, test } from "bun:test";
import { ema, sma } from "../../../stream/indicators/moving-averages.ts";

describe("moving averages", () => {
  const cases: { series: number[]; period: number; expected: (number | null)[] }[] = [
    { series: [1, 2, 3, 4, 5], period: 3, expected: [null, null, 2, 3, 4] },
    { series: [10, 10, 10], period: 1, expected: [10, 10, 10] },
    { series: [2, 4], period: 3, expected: [null, null] },
  ];
  test.each(cases)("SMA($period) of $series", ({ series, period, expected }) => {
    expect(sma(series, period)).toEqual(expected);
  });

  // hand-computed: seed = SMA(3) of 1,2,3 = 2; k = 2/(3+1) = 0.5; then (4-2)*.5+2 = 3,
  // (5-3)*.5+3 = 4, (2-4)*.5+4 = 3
  test("EMA(3) seeds with the SMA of its first three inputs, then smooths with k = 0.5", () => {
    expect(ema([1, 2, 3, 4, 5, 2], 3)).toEqual([null, null, 2, 3, 4, 3]);
  });

  // StockCharts' EMA example (ChartSchool, "Moving Averages"): 10-day EMA of closes, first
  // value the 10-day SMA 22.22, then 22.21, 22.24, 22.27, 22.33
  test("EMA(10) matches the ChartSchool worked example", () => {
    const closes = [
      22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29, 22.15, 22.39, 22.38, 22.61,
    ];
    const values = ema(closes, 10)
      .slice(9)
      .map((v) => Math.round(v! * 100) / 100);
    expect(values).toEqual([22.22, 22.21, 22.24, 22.27, 22.33]);
  });

  test.each([0, -1, 1.5])("a period of %p is refused", (period) => {
    expect(() => sma([1], period)).toThrow(RangeError);
    expect(() => ema([1], period)).toThrow(RangeError);
  });
});
