import { describe, expect, test } from "bun:test";
import type { SensorReading } from "../../../messages/sensor-reading.ts";
import { QualityChecker } from "../../../stream/quality/quality-checker.ts";

const T0 = Date.UTC(2024, 2, 4, 8);
const SPEC = { sensor_id: "env_1", type: "environment", intervalMs: 1000 } as const;
const reading = (offsetMs: number, temperature = 12): SensorReading => ({
  type: "environment",
  sensor_id: "env_1",
  timestamp: new Date(T0 + offsetMs).toISOString(),
  temperature,
  humidity: 60,
  air_quality_index: 30,
});

/** a sequence of (event offset, processing offset, temperature) and the rules the last one trips */
const cases: [string, [number, number, number][], string[], boolean][] = [
  ["a reading on time", [[0, 100, 12]], [], true],
  [
    "the same timestamp twice",
    [
      [0, 100, 12],
      [0, 200, 13],
    ],
    ["uniqueness.duplicate"],
    false,
  ],
  [
    "a duplicate of an older reading",
    [
      [0, 0, 12],
      [1000, 1000, 13],
      [2000, 2000, 14],
      [1000, 2100, 13],
    ],
    ["uniqueness.duplicate"],
    false,
  ],
  [
    "a one-interval step",
    [
      [0, 0, 12],
      [1000, 1000, 13],
    ],
    [],
    true,
  ],
  [
    "a two-interval step, within the gap factor",
    [
      [0, 0, 12],
      [2000, 2000, 13],
    ],
    [],
    true,
  ],
  [
    "a five-interval gap",
    [
      [0, 0, 12],
      [5000, 5000, 13],
    ],
    ["completeness.gap"],
    true,
  ],
  [
    "an out-of-order reading does not report a gap",
    [
      [5000, 5000, 12],
      [1000, 5100, 13],
    ],
    [],
    true,
  ],
  ["arriving 11 s late", [[0, 11_000, 12]], ["timeliness.late"], true],
  ["arriving 9 s late", [[0, 9_000, 12]], [], true],
  ["stamped 6 s ahead of processing", [[6_000, 0, 12]], ["timeliness.ahead"], true],
  [
    "four equal values",
    [
      [0, 0, 12],
      [1000, 1000, 12],
      [2000, 2000, 12],
      [3000, 3000, 12],
    ],
    [],
    true,
  ],
  [
    "five equal values",
    [
      [0, 0, 12],
      [1000, 1000, 12],
      [2000, 2000, 12],
      [3000, 3000, 12],
      [4000, 4000, 12],
    ],
    ["stuck.repeated_values"],
    true,
  ],
  ["an implausible value fails", [[0, 0, 70]], ["range.temperature"], false],
  ["late and implausible", [[0, 20_000, -30]], ["range.temperature", "timeliness.late"], false],
];

describe("QualityChecker", () => {
  test.each(cases)("%s gives %p (passed: %p)", (_name, steps, rules, passed) => {
    const checker = new QualityChecker(SPEC);
    const results = steps.map(([event, processing, temperature]) =>
      checker.check(reading(event, temperature), T0 + processing),
    );
    const result = results[results.length - 1]!;
    expect(result.issues.map((i) => i.rule)).toEqual(rules);
    expect(result.passed).toBe(passed);
  });

  test("a gap reports how many readings are missing", () => {
    const checker = new QualityChecker(SPEC);
    checker.check(reading(0), T0);
    expect(checker.check(reading(10_000), T0 + 10_000).missingBefore).toBe(9);
  });

  test("the duplicate memory is bounded: a replay older than it is no longer caught", () => {
    const checker = new QualityChecker(SPEC, { duplicateMemory: 4, stuckAfter: 1000 });
    for (let i = 0; i < 6; i++) checker.check(reading(i * 1000), T0 + i * 1000);
    expect(checker.check(reading(3000), T0 + 6000).issues.map((i) => i.rule)).toEqual([
      "uniqueness.duplicate",
    ]);
    expect(checker.check(reading(0), T0 + 6000).issues.map((i) => i.rule)).not.toContain(
      "uniqueness.duplicate",
    );
  });

  test("a restored checker continues exactly where the snapshot was taken", () => {
    const original = new QualityChecker(SPEC);
    for (let i = 0; i < 4; i++) original.check(reading(i * 1000), T0 + i * 1000);
    const snapshot = JSON.parse(JSON.stringify(original.snapshot()));
    const restored = QualityChecker.restore(snapshot);
    for (const c of [original, restored]) {
      expect(c.check(reading(2000), T0 + 5000).issues.map((i) => i.rule)).toEqual(["uniqueness.duplicate"]);
      expect(c.check(reading(4000), T0 + 5000).issues.map((i) => i.rule)).toEqual(["stuck.repeated_values"]);
      expect(c.check(reading(9000), T0 + 9000).issues.map((i) => i.rule)).toEqual([
        "completeness.gap",
        "stuck.repeated_values",
      ]);
    }
  });
});
