import { describe, expect, test } from "bun:test";
import {
  AlertEvaluator,
  type AlertRule,
  breaches,
  DEFAULT_ALERT_RULES,
  MIN_SENSOR_HISTORY,
  parseAlertRules,
  renderMessage,
} from "../../../actors/alert/alert-rules.ts";
import { isPlatformError } from "../../../messages/errors.ts";

const rule = (overrides: Partial<AlertRule> = {}): AlertRule =>
  parseAlertRules([
    {
      name: "r",
      metric: "anomaly_score",
      comparison: "greater_than",
      threshold: 0.9,
      severity: "warning",
      message_template: "{metric} of {sensor_id} is {value} (limit {threshold})",
      cooldown_ms: 1000,
      ...overrides,
    },
  ])[0]!;

describe("alert rules", () => {
  test.each([
    ["greater_than", 0.9, 0.95, true],
    ["greater_than", 0.9, 0.9, false],
    ["less_than", 0.6, 0.5, true],
    ["less_than", 0.6, 0.6, false],
    ["equals", 0, 0, true],
    ["equals", 0, 1, false],
  ] as const)("%s %d against %d breaches: %p", (comparison, threshold, value, expected) => {
    expect(breaches(rule({ comparison, threshold }), value)).toBe(expected);
  });

  test("the message template names the metric, value, threshold and labels", () => {
    const message = renderMessage(rule(), {
      metric: "anomaly_score",
      value: 0.95,
      labels: { sensor_id: "traffic_1" },
      at: 0,
    });
    expect(message).toBe("anomaly_score of traffic_1 is 0.9500 (limit 0.9)");
  });

  test("a condition that stays true fires once per cooldown and label set", () => {
    const evaluator = new AlertEvaluator([rule()]);
    const sample = (at: number, sensor: string) => ({
      metric: "anomaly_score",
      value: 0.99,
      labels: { sensor_id: sensor },
      at,
    });
    expect(evaluator.evaluate(sample(0, "a"))).toHaveLength(1);
    expect(evaluator.evaluate(sample(500, "a"))).toHaveLength(0);
    expect(evaluator.evaluate(sample(500, "b"))).toHaveLength(1);
    expect(evaluator.evaluate(sample(1000, "a"))).toHaveLength(1);
    expect(evaluator.suppressed).toBe(1);
  });

  test("label matchers restrict a rule to the samples that carry them", () => {
    const evaluator = new AlertEvaluator([rule({ labels: { sensor_type: "traffic" } })]);
    const at = 0;
    expect(
      evaluator.evaluate({ metric: "anomaly_score", value: 1, labels: { sensor_type: "utility" }, at }),
    ).toEqual([]);
    expect(
      evaluator.evaluate({ metric: "anomaly_score", value: 1, labels: { sensor_type: "traffic" }, at }),
    ).toHaveLength(1);
  });

  describe("a new key needs a minimum history before its scores can alert", () => {
    const cases: { name: string; minHistory: number; history: number | undefined; fires: boolean }[] = [
      { name: "a sensor's first reading", minHistory: 10, history: 1, fires: false },
      { name: "one reading short of the minimum", minHistory: 10, history: 9, fires: false },
      { name: "exactly the minimum", minHistory: 10, history: 10, fires: true },
      { name: "a long history", minHistory: 10, history: 5000, fires: true },
      { name: "a sample without a history (drift, rates)", minHistory: 10, history: undefined, fires: true },
      { name: "a rule without a minimum", minHistory: 0, history: 1, fires: true },
    ];
    for (const { name, minHistory, history, fires } of cases)
      test(`${name}: ${fires ? "fires" : "is held back"}`, () => {
        const evaluator = new AlertEvaluator([rule({ min_history: minHistory })]);
        const alerts = evaluator.evaluate({
          metric: "anomaly_score",
          value: 0.99,
          labels: { sensor_id: "new" },
          at: 0,
          ...(history === undefined ? {} : { history }),
        });
        expect(alerts).toHaveLength(fires ? 1 : 0);
        expect(evaluator.warmingUp).toBe(fires ? 0 : 1);
      });

    test("the built-in per-sensor rules hold back a brand-new sensor's low quality and anomaly scores", () => {
      const evaluator = new AlertEvaluator(DEFAULT_ALERT_RULES);
      const labels = { sensor_id: "flood_1", sensor_type: "traffic" };
      for (const [metric, value] of [
        ["quality_score", 0.515],
        ["anomaly_score", 1],
      ] as const) {
        expect(evaluator.evaluate({ metric, value, labels, at: 0, history: 1 })).toEqual([]);
        expect(
          evaluator.evaluate({ metric, value, labels, at: 0, history: MIN_SENSOR_HISTORY }),
        ).toHaveLength(1);
      }
    });
  });

  test("cooldown groups are forgotten once their cooldown passed, so a flood of keys leaves no table behind", () => {
    const evaluator = new AlertEvaluator([rule({ cooldown_ms: 1000 })]);
    for (let i = 0; i < 5000; i++)
      evaluator.evaluate({ metric: "anomaly_score", value: 1, labels: { sensor_id: `s${i}` }, at: i });
    // at 4999 only the groups that fired within the last 1000 ms can still suppress anything
    expect(evaluator.groups).toBeLessThanOrEqual(2048);
    expect(evaluator.evicted).toBe(0);
    // a group still cooling down is still remembered
    expect(
      evaluator.evaluate({ metric: "anomaly_score", value: 1, labels: { sensor_id: "s4999" }, at: 5000 }),
    ).toEqual([]);
  });

  test("past maxGroups the oldest groups are forgotten and counted", () => {
    const evaluator = new AlertEvaluator([rule({ cooldown_ms: 1_000_000 })], { maxGroups: 100 });
    for (let i = 0; i < 3000; i++)
      evaluator.evaluate({ metric: "anomaly_score", value: 1, labels: { sensor_id: `s${i}` }, at: i });
    expect(evaluator.groups).toBeLessThanOrEqual(1024);
    expect(evaluator.evicted).toBeGreaterThan(0);
    expect(
      evaluator.evaluate({ metric: "anomaly_score", value: 1, labels: { sensor_id: "s2999" }, at: 3000 }),
    ).toEqual([]);
  });

  test("a non-finite sample never fires", () => {
    const evaluator = new AlertEvaluator([rule({ comparison: "greater_than", threshold: 0 })]);
    expect(evaluator.evaluate({ metric: "anomaly_score", value: Number.NaN, labels: {}, at: 0 })).toEqual([]);
  });

  test.each([
    [[{ name: "x" }], "metric"],
    [[{ ...rule(), comparison: "between" }], "comparison"],
    [[{ ...rule(), threshold: "high" }], "threshold"],
    ["not a list", ""],
  ])("invalid rules are refused with CONFIG_INVALID naming the field (%#)", (input, field) => {
    try {
      parseAlertRules(input);
      throw new Error("expected a refusal");
    } catch (error) {
      expect(isPlatformError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toContain(field);
    }
  });
});
