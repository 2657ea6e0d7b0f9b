import { describe, expect, test } from "bun:test";
import type { SensorSpec } from "../../../stream/quality/quality-checker.ts";
import type { QualityIssue } from "../../../stream/quality/quality-rules.ts";
import { type QualityCounts, QualityScoreboard, scoreOf } from "../../../stream/quality/quality-score.ts";

const issue = (family: QualityIssue["family"]): QualityIssue => ({
  rule: `${family}.x`,
  family,
  severity: family === "range" || family === "uniqueness" ? "error" : "warning",
  message: "m",
});
const W = 60_000;
const T0 = Date.UTC(2024, 2, 4, 8);
const spec = (id: string, type: SensorSpec["type"] = "traffic", intervalMs = 1000): SensorSpec => ({
  sensor_id: id,
  type,
  intervalMs,
});

describe("quality score formula", () => {
  const cases: [string, QualityCounts, number][] = [
    ["a perfect window", { received: 60, distinct: 60, valid: 60, onTime: 60, expected: 60 }, 1],
    ["a silent window", { received: 0, distinct: 0, valid: 0, onTime: 0, expected: 60 }, 0.7],
    ["half the readings missing", { received: 30, distinct: 30, valid: 30, onTime: 30, expected: 60 }, 0.85],
    ["all invalid", { received: 60, distinct: 60, valid: 0, onTime: 60, expected: 60 }, 0.6],
    ["all late", { received: 60, distinct: 60, valid: 60, onTime: 0, expected: 60 }, 0.8],
    [
      "every reading sent twice",
      { received: 120, distinct: 60, valid: 120, onTime: 120, expected: 60 },
      0.95,
    ],
    [
      "more than expected caps completeness at 1",
      { received: 90, distinct: 90, valid: 90, onTime: 90, expected: 60 },
      1,
    ],
    [
      "a quarter invalid, a tenth late",
      { received: 40, distinct: 40, valid: 30, onTime: 36, expected: 40 },
      0.4 * 0.75 + 0.3 + 0.2 * 0.9 + 0.1,
    ],
  ];
  test.each(cases)("%s scores %p", (_name, counts, expected) => {
    expect(scoreOf(counts, T0, W).score).toBeCloseTo(expected, 6);
  });
});

describe("a reading's issues in its window's counts", () => {
  // each family alone and together: what a reading counts towards, and each rule counted once per issue
  const cases: [string, QualityIssue["family"][], Pick<QualityCounts, "distinct" | "valid" | "onTime">][] = [
    ["no issue", [], { distinct: 1, valid: 1, onTime: 1 }],
    ["a duplicate", ["uniqueness"], { distinct: 0, valid: 1, onTime: 1 }],
    ["out of range", ["range"], { distinct: 1, valid: 0, onTime: 1 }],
    ["a cross-field issue", ["cross_field"], { distinct: 1, valid: 0, onTime: 1 }],
    ["late", ["timeliness"], { distinct: 1, valid: 1, onTime: 0 }],
    [
      "completeness and stuck count against nothing",
      ["completeness", "stuck"],
      { distinct: 1, valid: 1, onTime: 1 },
    ],
    ["two range issues", ["range", "range"], { distinct: 1, valid: 0, onTime: 1 }],
    [
      "all at once",
      ["stuck", "timeliness", "cross_field", "uniqueness"],
      { distinct: 0, valid: 0, onTime: 0 },
    ],
  ];
  test.each(cases)("%s", (_name, families, counts) => {
    const board = new QualityScoreboard(W);
    board.record(spec("t1"), T0, families.map(issue));
    expect(board.sensor("t1")).toMatchObject({ received: 1, ...counts });
    const rules: Record<string, number> = {};
    for (const family of families) rules[`${family}.x`] = (rules[`${family}.x`] ?? 0) + 1;
    expect(board.ruleCounts()).toEqual(rules);
  });
});

describe("QualityScoreboard", () => {
  test("scores one sensor per window from the issues recorded", () => {
    const board = new QualityScoreboard(W);
    for (let i = 0; i < 60; i++) board.record(spec("t1"), T0 + i * 1000, i < 6 ? [issue("range")] : []);
    const s = board.sensor("t1")!;
    expect(s).toMatchObject({ windowStart: T0, windowEnd: T0 + W, received: 60, valid: 54, expected: 60 });
    expect(s.score).toBeCloseTo(0.4 * 0.9 + 0.3 + 0.2 + 0.1, 6);
  });

  test("a type's score sums its sensors, and a sensor silent in the window lowers completeness", () => {
    const board = new QualityScoreboard(W);
    for (let i = 0; i < 60; i++) board.record(spec("t1"), T0 + i * 1000, []);
    board.record(spec("t2"), T0 - W, []); // t2 was seen before, silent now
    for (let i = 0; i < 60; i++)
      board.record(spec("e1", "environment"), T0 + i * 1000, [issue("timeliness")]);
    expect(board.type("traffic", T0)).toMatchObject({ received: 60, expected: 120, completeness: 0.5 });
    expect(board.type("environment", T0).timeliness).toBe(0);
    expect(board.window(T0)).toMatchObject({ received: 120, expected: 180 });
    expect(board.windowStarts()).toEqual([T0 - W, T0]);
  });

  test("duplicates count as received but not as distinct", () => {
    const board = new QualityScoreboard(W);
    board.record(spec("t1"), T0, []);
    board.record(spec("t1"), T0, [issue("uniqueness")]);
    expect(board.sensor("t1")).toMatchObject({ received: 2, distinct: 1, uniqueness: 0.5 });
    expect(board.ruleCounts()).toEqual({ "uniqueness.x": 1 });
  });

  test("only the newest windowsKept windows per sensor are kept", () => {
    const board = new QualityScoreboard(W, 3);
    for (let w = 0; w < 5; w++) board.record(spec("t1"), T0 + w * W, []);
    expect(board.windowStarts()).toEqual([T0 + 2 * W, T0 + 3 * W, T0 + 4 * W]);
    expect(board.sensor("t1", T0)!.received).toBe(0);
  });

  test("a restored scoreboard gives the same scores and keeps counting", () => {
    const board = new QualityScoreboard(W);
    for (let i = 0; i < 30; i++)
      board.record(spec(`t${i % 3}`), T0 + i * 1000, i % 4 === 0 ? [issue("cross_field")] : []);
    const restored = QualityScoreboard.restore(JSON.parse(JSON.stringify(board.snapshot())));
    expect(restored.type("traffic", T0)).toEqual(board.type("traffic", T0));
    expect(restored.ruleCounts()).toEqual(board.ruleCounts());
    restored.record(spec("t0"), T0 + 40_000, []);
    expect(restored.sensor("t0")!.received).toBe(board.sensor("t0")!.received + 1);
  });
});
