import { describe, expect, test } from "bun:test";
import { AlertDispatcher } from "../../../actors/alert/alert-dispatcher.ts";
import {
  AlertEvaluator,
  DEFAULT_ALERT_RULES,
  MIN_SENSOR_HISTORY,
} from "../../../actors/alert/alert-rules.ts";
import { DEFAULT_ALERT_ROUTING } from "../../../actors/alert/route-tree.ts";
import { Silences } from "../../../alerting/silences.ts";
import type { Alert, AlertNotification } from "../../../messages/alert.ts";

/**
 * The built-in rules and routing together, one case per signal the node samples: a bad value
 * held past the rule's `for` fires, is routed (critical pages, warnings go to the default
 * receiver) after its group_wait, and a good value resolves it, notified at the next interval.
 */
const node = "host:3000";
const cases: {
  kind: "system" | "data" | "model";
  rule: string;
  metric: string;
  labels: Record<string, string>;
  bad: number;
  good: number;
  receiver: "page" | "default";
  history?: number;
}[] = [
  {
    kind: "system",
    rule: "worker-crashed",
    metric: "worker_crashes",
    labels: {},
    bad: 1,
    good: 0,
    receiver: "page",
  },
  {
    kind: "system",
    rule: "restart-intensity",
    metric: "actor_restarts_per_minute",
    labels: {},
    bad: 50,
    good: 0,
    receiver: "default",
  },
  {
    kind: "system",
    rule: "consumer-lag",
    metric: "consumer_lag_records",
    labels: { topic: "city.sensors.raw" },
    bad: 500_000,
    good: 10,
    receiver: "default",
  },
  {
    kind: "system",
    rule: "memory-high",
    metric: "memory_used_ratio",
    labels: {},
    bad: 0.95,
    good: 0.4,
    receiver: "default",
  },
  {
    kind: "system",
    rule: "disk-low",
    metric: "disk_free_ratio",
    labels: { path: "/data" },
    bad: 0.05,
    good: 0.5,
    receiver: "page",
  },
  {
    kind: "system",
    rule: "sink-stalled",
    metric: "sink_stalled_seconds",
    labels: { sink: "log" },
    bad: 45,
    good: 0,
    receiver: "page",
  },
  {
    kind: "data",
    rule: "volume-drop",
    metric: "ingest_rate_ratio",
    labels: { source: "traffic" },
    bad: 0.2,
    good: 1,
    receiver: "default",
  },
  {
    kind: "data",
    rule: "source-stale",
    metric: "source_staleness_seconds",
    labels: { source: "traffic" },
    bad: 120,
    good: 1,
    receiver: "default",
  },
  {
    kind: "data",
    rule: "dead-letter-rate",
    metric: "dead_letters_per_second",
    labels: {},
    bad: 80,
    good: 0,
    receiver: "default",
  },
  {
    kind: "data",
    rule: "low-quality",
    metric: "quality_score",
    labels: { sensor_id: "t1", sensor_type: "traffic" },
    bad: 0.3,
    good: 0.95,
    receiver: "default",
    history: MIN_SENSOR_HISTORY,
  },
  {
    kind: "data",
    rule: "sensor-anomaly",
    metric: "anomaly_score",
    labels: { sensor_id: "t1", sensor_type: "traffic" },
    bad: 0.99,
    good: 0.1,
    receiver: "default",
    history: MIN_SENSOR_HISTORY,
  },
  {
    kind: "model",
    rule: "feature-drift",
    metric: "drift_score",
    labels: { model: "traffic", feature: "speed" },
    bad: 0.8,
    good: 0.1,
    receiver: "page",
  },
  {
    kind: "model",
    rule: "model-error-up",
    metric: "model_live_error_ratio",
    labels: { model: "traffic-forecast", version: "3" },
    bad: 2.1,
    good: 1.0,
    receiver: "default",
  },
  {
    kind: "model",
    rule: "prediction-latency",
    metric: "prediction_latency_ms",
    labels: { model: "traffic" },
    bad: 900,
    good: 20,
    receiver: "default",
  },
];

describe("the built-in rules and routing", () => {
  for (const c of cases)
    test(`${c.kind}: ${c.rule} fires, routes to ${c.receiver}, and resolves`, () => {
      const rule = DEFAULT_ALERT_RULES.find((r) => r.name === c.rule);
      if (!rule) throw new Error(`no built-in rule ${c.rule}`);
      const evaluator = new AlertEvaluator(DEFAULT_ALERT_RULES);
      const dispatcher = new AlertDispatcher(DEFAULT_ALERT_ROUTING, new Silences(), () => evaluator.firing());
      const sent: AlertNotification[] = [];
      const changes: Alert[] = [];
      const at = (time: number, value: number | undefined) => {
        const alerts =
          value === undefined
            ? evaluator.tick(time)
            : evaluator.evaluate({
                metric: c.metric,
                value,
                labels: { node, ...c.labels },
                at: time,
                ...(c.history ? { history: c.history } : {}),
              });
        changes.push(...alerts);
        for (const alert of alerts) sent.push(...dispatcher.insert(alert, time));
        sent.push(...dispatcher.due(time));
      };
      // the bad value every 2 s (as the node samples) until past the rule's `for`
      let t = 0;
      for (; t <= rule.for; t += 2000) at(t, c.bad);
      expect(changes.map((a) => a.status)).toEqual(["firing"]);
      expect(changes[0]?.labels).toMatchObject({ alertname: c.rule, node, category: c.kind });
      expect(changes[0]?.category).toBe(c.kind);
      // past the group_wait the receiver has it
      for (const end = t + 15_000; t <= end; t += 1000) at(t, c.bad);
      expect(sent.map((n) => `${n.receiver}:${n.status}`)).toEqual([`${c.receiver}:firing`]);
      // the good value resolves it; the resolve goes out at the next group interval
      for (const end = t + rule.keep_firing_for + 2000; t <= end; t += 2000) at(t, c.good);
      expect(changes.map((a) => a.status)).toEqual(["firing", "resolved"]);
      for (const end = t + 60_000; t <= end; t += 1000) at(t, undefined);
      expect(sent.map((n) => `${n.receiver}:${n.status}`)).toEqual([
        `${c.receiver}:firing`,
        `${c.receiver}:resolved`,
      ]);
    });
});
