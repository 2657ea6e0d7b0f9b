import { describe, expect, test } from "bun:test";
import { EventTimeTimers } from "../../../stream/watermark/event-time-timers.ts";

describe("event-time timers", () => {
  test("hand back the keys whose time the watermark reached, earliest first, once", () => {
    const timers = new EventTimeTimers();
    timers.schedule("c", 300);
    timers.schedule("a", 100);
    timers.schedule("b", 200);
    expect(timers.due(99)).toEqual([]);
    expect(timers.due(200)).toEqual(["a", "b"]);
    expect(timers.due(200)).toEqual([]);
    expect(timers.due(1_000)).toEqual(["c"]);
    expect(timers.size).toBe(0);
  });

  test.each([
    [
      "a later time replaces an earlier one",
      [
        ["k", 100],
        ["k", 500],
      ],
      200,
      [],
    ],
    [
      "an earlier time replaces a later one",
      [
        ["k", 500],
        ["k", 100],
      ],
      200,
      ["k"],
    ],
    [
      "+Infinity cancels",
      [
        ["k", 100],
        ["k", Number.POSITIVE_INFINITY],
      ],
      1e12,
      [],
    ],
    ["-Infinity is due at the first watermark", [["k", Number.NEGATIVE_INFINITY]], -1e12, ["k"]],
  ] as const)("%s", (_name, schedules, watermark, due) => {
    const timers = new EventTimeTimers();
    for (const [key, at] of schedules) timers.schedule(key, at);
    expect(timers.due(watermark)).toEqual([...due]);
  });

  test("memory follows the keys with a timer, however often they are rescheduled", () => {
    const timers = new EventTimeTimers();
    for (let round = 0; round < 1_000; round++) for (let k = 0; k < 10; k++) timers.schedule(`k${k}`, round);
    expect(timers.size).toBe(10);
    expect((timers as unknown as { times: number[] }).times.length).toBeLessThanOrEqual(64 + 20);
    expect(timers.due(999)).toHaveLength(10);
  });
});
