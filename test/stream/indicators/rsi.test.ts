import { describe, expect, test } from "bun:test";
import { rsi, rsiInit, rsiStep } from "../../../stream/indicators/rsi.ts";

/**
 * The worked example of Wilder's RSI(14) that StockCharts publishes ("Relative Strength Index
 * (RSI)", ChartSchool): 33 closes of a stock, the first RSI on the 15th close.
 */
const CLOSES = [
  44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931, 46.0328,
  45.614, 46.282, 46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515,
  45.7835, 45.3532, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
];
const EXPECTED = [
  70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87,
  45.46, 37.3, 33.08, 37.77,
];

describe("RSI", () => {
  test("matches Wilder's worked example within its two-decimal rounding", () => {
    const values = rsi(CLOSES, 14);
    expect(values.slice(0, 14).every((v) => v === null)).toBe(true);
    // the published table rounds its intermediate averages: one value differs in the last digit
    const off = values.slice(14).map((v, i) => Math.abs(v! - EXPECTED[i]!));
    expect(Math.max(...off)).toBeLessThan(0.015);
  });

  test.each([
    { name: "only rises", closes: [1, 2, 3, 4], expected: 100 },
    { name: "only falls", closes: [4, 3, 2, 1], expected: 0 },
    { name: "flat", closes: [5, 5, 5, 5], expected: 50 },
    { name: "one up one down of the same size", closes: [5, 6, 5], expected: 50 },
  ])("a series that $name gives $expected", ({ closes, expected }) => {
    const period = closes.length - 1;
    expect(rsi(closes, period).at(-1)).toBeCloseTo(expected, 10);
  });

  test("its state survives a JSON round trip mid-series (the changelog)", () => {
    const straight = rsi(CLOSES, 14);
    let state = rsiInit(14);
    const resumed: (number | null)[] = [];
    for (const [i, close] of CLOSES.entries()) {
      if (i === 20) state = JSON.parse(JSON.stringify(state));
      resumed.push(rsiStep(state, close));
    }
    expect(resumed).toEqual(straight);
  });
});
