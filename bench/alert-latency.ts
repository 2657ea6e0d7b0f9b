/**
 * Alert latency: from an alert condition (a breaching metric sample handed to the alert router)
 * to the notification received by a webhook over HTTP, Alertmanager payload v4. The path is the
 * node's: the router actor (rule state machine, route tree, aggregation group with group_wait 0,
 * silences and inhibition checked), the webhook channel actor, a real HTTP POST to a local
 * receiver. Between conditions the router is kept busy with non-breaching samples (per-reading
 * quality scores), as on a node under load. Target: p99 <= 1 s.
 * Baseline (same run): the rule evaluation alone (AlertEvaluator.evaluate of the same sample).
 */
import { alertChannelProps } from "../actors/alert/alert-channel.ts";
import { type AlertRouterMessage, alertRouterProps } from "../actors/alert/alert-router.ts";
import { AlertEvaluator, parseAlertRules } from "../actors/alert/alert-rules.ts";
import { parseAlertRouting } from "../actors/alert/route-tree.ts";
import { Silences } from "../alerting/silences.ts";
import type { MetricSample } from "../messages/alert.ts";
import { webhookDelivery } from "../sinks/alert-deliveries.ts";
import type { WebhookPayloadV4 } from "../sinks/alertmanager-webhook-v4.ts";
import { createActorSystem } from "../supervisor/index.ts";
import { printFigure, quantile } from "./support.ts";

const CONDITIONS = Number(process.argv[2] ?? 500);
const BACKGROUND_PER_CONDITION = 2000;

const rules = parseAlertRules([
  {
    name: "sink-stalled",
    category: "system",
    metric: "sink_stalled_seconds",
    comparison: "greater_than",
    threshold: 30,
    severity: "critical",
    message_template: "sink {sink} stalled for {value} s",
  },
  {
    name: "low-quality",
    metric: "quality_score",
    comparison: "less_than",
    threshold: 0.6,
    severity: "warning",
    message_template: "quality of {sensor_id} is {value}",
  },
]);
const routing = parseAlertRouting({
  route: {
    receiver: "page",
    group_by: ["alertname", "sink"],
    group_wait: 0,
    group_interval: "5m",
  },
  receivers: [{ name: "page", channels: ["webhook"] }],
  inhibit_rules: [
    { source_matchers: ['alertname="node-down"'], target_matchers: ['severity="warning"'], equal: ["node"] },
  ],
});

// the webhook's receiving end: resolves the waiter of each sink label as its notification lands
const waiting = new Map<string, (at: number) => void>();
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const payload = (await request.json()) as WebhookPayloadV4;
    const at = performance.now();
    for (const alert of payload.alerts) waiting.get(alert.labels.sink ?? "")?.(at);
    return new Response(null, { status: 200 });
  },
});

const system = createActorSystem({ name: "alert-bench" });
const webhook = system.spawn(
  alertChannelProps({
    delivery: webhookDelivery(`http://127.0.0.1:${receiver.port}/hook`),
    onUndeliverable: (_channel, _n, error) => {
      throw error;
    },
  }),
  "webhook",
);
const router = system.spawn(
  alertRouterProps({
    rules,
    routing,
    silences: new Silences(),
    channels: () => new Map([["webhook", webhook]]),
    onAlert: () => undefined,
  }),
  "main",
);

const background = (i: number): MetricSample => ({
  metric: "quality_score",
  value: 0.9,
  labels: { sensor_id: `s${i % 500}`, sensor_type: "traffic" },
  at: Date.now(),
});
const condition = (i: number): MetricSample => ({
  metric: "sink_stalled_seconds",
  value: 45,
  labels: { node: "n1", sink: `sink-${i}` },
  at: Date.now(),
});

const latencies: number[] = [];
for (let i = 0; i < CONDITIONS; i++) {
  for (let j = 0; j < BACKGROUND_PER_CONDITION; j++)
    router.tell({ type: "sample", sample: background(j) } satisfies AlertRouterMessage);
  const label = `sink-${i}`;
  const delivered = new Promise<number>((resolve) => waiting.set(label, resolve));
  const started = performance.now();
  router.tell({ type: "sample", sample: condition(i) });
  latencies.push((await delivered) - started);
  waiting.delete(label);
}
await system.stop();
receiver.stop(true);

// baseline: the rule evaluation alone, on the same samples, one at a time
const evaluator = new AlertEvaluator(rules);
const evaluation: number[] = [];
for (let i = 0; i < CONDITIONS; i++) {
  const sample = condition(CONDITIONS + i);
  const started = performance.now();
  evaluator.evaluate(sample);
  evaluation.push(performance.now() - started);
}

const p99 = quantile(latencies, 0.99);
console.log(
  `alert condition -> webhook (payload v4, HTTP): p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms over ${CONDITIONS} conditions, ${BACKGROUND_PER_CONDITION} background samples before each`,
);
console.log(
  `rule evaluation alone: p50 ${quantile(evaluation, 0.5).toFixed(4)} ms, p99 ${quantile(evaluation, 0.99).toFixed(4)} ms`,
);
printFigure({
  name: "alert-latency-p99",
  value: Number(p99.toFixed(2)),
  unit: "ms",
  baseline: "rule evaluation alone, p99",
  baseline_value: Number(quantile(evaluation, 0.99).toFixed(4)),
  p50_ms: Number(quantile(latencies, 0.5).toFixed(2)),
  target_ms: 1000,
  met: p99 <= 1000,
});
