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
    expect((timers as unknown as { entries: number }).entries).toBeLessThanOrEqual(64 + 20);
    expect(timers.due(999)).toHaveLength(10);
  });

  test("keys rescheduled away and back are due once each, with every other key of their time", () => {
    const timers = new EventTimeTimers();
    const keys = Array.from({ length: 1_000 }, (_, i) => `window/traffic:${i % 12}:s${i}`);
    for (const key of keys) timers.schedule(key, 60_000);
    // half of them move to the next close time and back: their first entries went stale
    for (const key of keys.slice(0, 500)) timers.schedule(key, 120_000);
    for (const key of keys.slice(0, 500)) timers.schedule(key, 60_000);
    const due = timers.due(60_000);
    expect(due).toHaveLength(keys.length);
    expect([...due].sort()).toEqual([...keys].sort());
    expect(timers.due(Number.POSITIVE_INFINITY)).toEqual([]);
    expect(timers.size).toBe(0);
  });

  test.each([
    ["times scheduled in order", [100, 200, 300, 400]],
    ["times scheduled in reverse", [400, 300, 200, 100]],
    ["times scheduled out of order, some repeated", [300, 100, 400, 100, 200, 300]],
  ] as const)("due hands keys back in time order: %s", (_name, times) => {
    const timers = new EventTimeTimers();
    times.forEach((at, i) => {
      timers.schedule(`k${i}`, at);
    });
    const expected = times
      .map((at, i) => ({ at, key: `k${i}` }))
      .sort((a, b) => a.at - b.at || Number(a.key.slice(1)) - Number(b.key.slice(1)))
      .map(({ key }) => key);
    expect([...timers.due(250), ...timers.due(1_000)]).toEqual(expected);
  });
});
