import { describe, expect, test } from "bun:test";
import {
  AlertEvaluator,
  type AlertRule,
  breaches,
  parseAlertRules,
  renderMessage,
} from "../../actors/alert-rules.ts";
import { isPlatformError } from "../../messages/errors.ts";

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
