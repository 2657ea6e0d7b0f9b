import { describe, expect, test } from "bun:test";
import type { AlertRuleInput } from "../../../actors/alert/alert-rule.ts";
import {
  AlertEvaluator,
  type AlertRule,
  breaches,
  DEFAULT_ALERT_RULES,
  MIN_SENSOR_HISTORY,
  parseAlertRules,
  renderMessage,
} from "../../../actors/alert/alert-rules.ts";
import { labelsFingerprint } from "../../../actors/alert/fingerprint.ts";
import type { Alert, MetricSample } from "../../../messages/alert.ts";
import { isPlatformError } from "../../../messages/errors.ts";

const rule = (overrides: Partial<AlertRuleInput> = {}): AlertRule =>
  parseAlertRules([
    {
      name: "r",
      metric: "anomaly_score",
      comparison: "greater_than",
      threshold: 0.9,
      severity: "warning",
      message_template: "{metric} of {sensor_id} is {value} (limit {threshold})",
      ...overrides,
    },
  ])[0]!;

const sample = (
  at: number,
  value: number,
  labels: Record<string, string> = { sensor_id: "a" },
): MetricSample => ({
  metric: "anomaly_score",
  value,
  labels,
  at,
});

const statuses = (alerts: readonly Alert[]) => alerts.map((a) => `${a.status}@${a.at}`);

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
    const message = renderMessage(rule(), sample(0, 0.95, { sensor_id: "traffic_1" }));
    expect(message).toBe("anomaly_score of traffic_1 is 0.9500 (limit 0.9)");
  });

  test("durations are written as Prometheus writes them or in milliseconds", () => {
    expect(rule({ for: "1m30s" }).for).toBe(90_000);
    expect(rule({ for: "250ms" }).for).toBe(250);
    expect(rule({ for: 5000 }).for).toBe(5000);
    expect(() => rule({ for: "soon" })).toThrow("not a duration");
  });

  /**
   * The state machine, one case per path: each step is a sample (value at a time) or a tick;
   * the expected changes are what the evaluator returns over the whole run.
   */
  describe("the state machine: inactive -> pending -> firing -> resolved", () => {
    type Step = readonly ["sample", number, number] | readonly ["tick", number];
    const cases: {
      name: string;
      rule: Partial<AlertRuleInput>;
      steps: Step[];
      changes: string[];
      activeAfter: string[];
    }[] = [
      {
        name: "without `for` a breach fires at once and a clear resolves",
        rule: {},
        steps: [
          ["sample", 0, 1],
          ["sample", 100, 1],
          ["sample", 200, 0.1],
        ],
        changes: ["firing@0", "resolved@200"],
        activeAfter: [],
      },
      {
        name: "with `for` a breach is pending until it held that long",
        rule: { for: 1000 },
        steps: [
          ["sample", 0, 1],
          ["sample", 500, 1],
          ["sample", 1000, 1],
        ],
        changes: ["firing@1000"],
        activeAfter: ["firing"],
      },
      {
        name: "a pending alert whose condition clears goes back to inactive without a notification",
        rule: { for: 1000 },
        steps: [
          ["sample", 0, 1],
          ["sample", 500, 0],
          ["sample", 900, 1],
          ["sample", 1500, 1],
        ],
        changes: [],
        activeAfter: ["pending"],
      },
      {
        name: "a tick fires a pending alert whose `for` ran out while its last sample breached",
        rule: { for: 1000 },
        steps: [
          ["sample", 0, 1],
          ["tick", 999],
          ["tick", 1000],
        ],
        changes: ["firing@1000"],
        activeAfter: ["firing"],
      },
      {
        name: "keep_firing_for holds a firing alert through a short dip",
        rule: { keep_firing_for: 1000 },
        steps: [
          ["sample", 0, 1],
          ["sample", 100, 0],
          ["sample", 500, 1],
          ["sample", 600, 0],
          ["sample", 1499, 0],
          ["sample", 1500, 0],
        ],
        changes: ["firing@0", "resolved@1500"],
        activeAfter: [],
      },
      {
        name: "keep_firing_for runs out on a tick too",
        rule: { keep_firing_for: 1000 },
        steps: [
          ["sample", 0, 1],
          ["sample", 100, 0],
          ["tick", 900],
          ["tick", 1000],
        ],
        changes: ["firing@0", "resolved@1000"],
        activeAfter: [],
      },
      {
        name: "a firing series that stops reporting resolves when it goes stale",
        rule: { stale_after: 5000 },
        steps: [
          ["sample", 0, 1],
          ["tick", 4999],
          ["tick", 5000],
        ],
        changes: ["firing@0", "resolved@5000"],
        activeAfter: [],
      },
      {
        name: "a pending series that stops reporting is forgotten silently",
        rule: { for: 10_000, stale_after: 5000 },
        steps: [
          ["sample", 0, 1],
          ["tick", 5000],
        ],
        changes: [],
        activeAfter: [],
      },
      {
        name: "a condition that stays true fires once, not once per sample",
        rule: {},
        steps: [
          ["sample", 0, 1],
          ["sample", 1, 1],
          ["sample", 2, 1],
          ["tick", 3],
        ],
        changes: ["firing@0"],
        activeAfter: ["firing"],
      },
      {
        name: "after a resolve the same condition fires again",
        rule: {},
        steps: [
          ["sample", 0, 1],
          ["sample", 1, 0],
          ["sample", 2, 1],
        ],
        changes: ["firing@0", "resolved@1", "firing@2"],
        activeAfter: ["firing"],
      },
    ];
    for (const c of cases)
      test(c.name, () => {
        const evaluator = new AlertEvaluator([rule(c.rule)]);
        const changes: Alert[] = [];
        for (const step of c.steps)
          changes.push(
            ...(step[0] === "sample"
              ? evaluator.evaluate(sample(step[1], step[2]))
              : evaluator.tick(step[1])),
          );
        expect(statuses(changes)).toEqual(c.changes);
        expect(evaluator.active().map((a): string => a.state)).toEqual(c.activeAfter);
      });
  });

  test("an alert carries Alertmanager's identity: labels with alertname, severity and category, their fingerprint, start and end", () => {
    const evaluator = new AlertEvaluator([
      rule({ alert_labels: { team: "city" }, annotations: { runbook: "see {sensor_id}" }, category: "data" }),
    ]);
    const [fired] = evaluator.evaluate(sample(1000, 0.95));
    const [resolved] = evaluator.evaluate(sample(3000, 0.1));
    const labels = { sensor_id: "a", team: "city", alertname: "r", severity: "warning", category: "data" };
    expect(fired).toMatchObject({
      status: "firing",
      labels,
      fingerprint: labelsFingerprint(labels),
      startsAt: 1000,
      category: "data",
      annotations: { summary: "anomaly_score of a is 0.9500 (limit 0.9)", runbook: "see a" },
    });
    expect(fired?.endsAt).toBeUndefined();
    expect(resolved).toMatchObject({
      status: "resolved",
      fingerprint: fired?.fingerprint,
      startsAt: 1000,
      endsAt: 3000,
    });
  });

  test("each label set is its own series", () => {
    const evaluator = new AlertEvaluator([rule()]);
    expect(evaluator.evaluate(sample(0, 1, { sensor_id: "a" }))).toHaveLength(1);
    expect(evaluator.evaluate(sample(0, 1, { sensor_id: "b" }))).toHaveLength(1);
    expect(evaluator.evaluate(sample(1, 0, { sensor_id: "a" })).map((a) => a.labels.sensor_id)).toEqual([
      "a",
    ]);
    expect(evaluator.firing().map((a) => a.labels.sensor_id)).toEqual(["b"]);
  });

  test("label matchers restrict a rule to the samples that carry them", () => {
    const evaluator = new AlertEvaluator([rule({ labels: { sensor_type: "traffic" } })]);
    expect(evaluator.evaluate(sample(0, 1, { sensor_type: "utility" }))).toEqual([]);
    expect(evaluator.evaluate(sample(0, 1, { sensor_type: "traffic" }))).toHaveLength(1);
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
          ...sample(0, 0.99),
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

  test("a flood of keys that never breach leaves no table behind", () => {
    const evaluator = new AlertEvaluator([rule()]);
    for (let i = 0; i < 5000; i++) evaluator.evaluate(sample(i, 0.1, { sensor_id: `s${i}` }));
    expect(evaluator.groups).toBe(0);
  });

  test("past maxSeries the oldest pending series are forgotten, and a firing one is never dropped without its resolve", () => {
    const evaluator = new AlertEvaluator([rule({ for: 1_000_000 })], { maxSeries: 100 });
    for (let i = 0; i < 300; i++) evaluator.evaluate(sample(i, 1, { sensor_id: `s${i}` }));
    expect(evaluator.groups).toBe(100);
    expect(evaluator.evicted).toBe(200);

    const full = new AlertEvaluator([rule()], { maxSeries: 10 });
    for (let i = 0; i < 20; i++) full.evaluate(sample(i, 1, { sensor_id: `s${i}` }));
    expect(full.firing()).toHaveLength(10);
    expect(full.refused).toBe(10);
    expect(full.evaluate(sample(100, 0, { sensor_id: "s0" })).map((a) => a.status)).toEqual(["resolved"]);
  });

  test("a non-finite sample never fires", () => {
    const evaluator = new AlertEvaluator([rule({ comparison: "greater_than", threshold: 0 })]);
    expect(evaluator.evaluate(sample(0, Number.NaN))).toEqual([]);
  });

  test("the built-in rules cover system, data and model health", () => {
    const categories = new Set(DEFAULT_ALERT_RULES.map((r) => r.category));
    expect([...categories].sort()).toEqual(["data", "model", "system"]);
  });

  test.each([
    [[{ name: "x" }], "metric"],
    [[{ ...rule(), comparison: "between" }], "comparison"],
    [[{ ...rule(), threshold: "high" }], "threshold"],
    [[{ ...rule(), for: "later" }], "for"],
    [[{ ...rule(), alert_labels: { "bad-name": "x" } }], "alert_labels"],
    [[rule(), rule()], "unique"],
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
