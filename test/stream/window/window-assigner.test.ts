import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import {
  alignedStart,
  floorMod,
  hopping,
  session,
  sliding,
  timeWindowStarts,
  tumbling,
} from "../../../stream/window/window-assigner.ts";

describe("tumbling window boundaries", () => {
  const cases: [string, number, number, number, number][] = [
    // name, size, offset, timestamp, expected start
    ["a timestamp on a boundary starts its window", 60_000, 0, 120_000, 120_000],
    ["the last ms before a boundary stays in the earlier window", 60_000, 0, 119_999, 60_000],
    ["time zero is the start of the first window", 60_000, 0, 0, 0],
    ["a negative timestamp aligns down, not toward zero", 60_000, 0, -1, -60_000],
    ["a negative timestamp on a boundary starts its window", 60_000, 0, -60_000, -60_000],
    ["an offset shifts the boundaries", 60_000, 15_000, 14_999, -45_000],
    ["an offset larger than the size wraps", 60_000, 75_000, 80_000, 75_000],
    ["a negative offset shifts the other way", 60_000, -15_000, 50_000, 45_000],
  ];
  for (const [name, size, offset, timestamp, start] of cases) {
    test(name, () => {
      expect(timeWindowStarts(tumbling(size, offset), timestamp)).toEqual([start]);
      expect(alignedStart(timestamp, size, offset)).toBe(start);
    });
  }
});

describe("hopping window boundaries", () => {
  const cases: [string, number, number, number, number[]][] = [
    [
      "a record is in size / advance windows, newest first",
      60_000,
      10_000,
      65_000,
      [60_000, 50_000, 40_000, 30_000, 20_000, 10_000],
    ],
    ["a record on a boundary is in the window that starts there", 20_000, 10_000, 20_000, [20_000, 10_000]],
    ["windows before the epoch are assigned like any other", 20_000, 10_000, 5_000, [0, -10_000]],
    ["a negative timestamp aligns down", 20_000, 10_000, -1, [-10_000, -20_000]],
    [
      "an advance that does not divide the size still covers the record",
      25_000,
      10_000,
      30_000,
      [30_000, 20_000, 10_000],
    ],
    ["advance equal to size is tumbling", 10_000, 10_000, 12_345, [10_000]],
  ];
  for (const [name, size, advance, timestamp, starts] of cases) {
    test(name, () => {
      const got = timeWindowStarts(hopping(size, advance), timestamp);
      expect(got).toEqual(starts);
      for (const start of got) expect(timestamp >= start && timestamp < start + size).toBe(true);
    });
  }
});

describe("assigner configuration", () => {
  const bad: [string, () => unknown][] = [
    ["a zero tumbling size", () => tumbling(0)],
    ["a fractional size", () => tumbling(1.5)],
    ["an advance larger than the size", () => hopping(10, 20)],
    ["a negative sliding difference", () => sliding(-1)],
    ["a NaN session gap", () => session(Number.NaN)],
  ];
  for (const [name, make] of bad) {
    test(`${name} is refused with CONFIG_INVALID`, () => {
      let caught: unknown;
      try {
        make();
      } catch (error) {
        caught = error;
      }
      expect(isPlatformError(caught, "CONFIG_INVALID")).toBe(true);
    });
  }

  test("floor modulo keeps the divisor's sign", () => {
    expect([floorMod(-1, 10), floorMod(11, 10), floorMod(-10, 10), floorMod(0, 10)]).toEqual([9, 1, 0, 0]);
  });
});
