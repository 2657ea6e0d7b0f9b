/**
 * The rolling-upgrade drill: a two-node application on the real Kafka and Mosquitto, under
 * continuous QoS 1 sensor load, restarted one node at a time onto a new build; then every reading
 * the broker acknowledged is looked for in the log and every window's count checked against it.
 *
 *   bun run infra:up
 *   git worktree add ../streaming-ml-next <new ref> && (cd ../streaming-ml-next && bun install)
 *   bun bin/drill-rolling-restart.ts --build ../streaming-ml-next
 *
 * Options: --build <checkout> (default: this one, a restart without a code change), --nodes (2),
 * --sensors (12), --interval-ms (100), --window-ms (2000), --settle-ms (4000). Servers: KAFKA_BROKERS
 * (127.0.0.1:9092) and MOSQUITTO_URL (mqtt://127.0.0.1:1883). Exit 0 when nothing was lost, no
 * window was counted twice and every node stopped cleanly; 1 otherwise, with the evidence printed.
 * Do not run it beside the scale-out tests: every node subscribes to the same Mosquitto topics.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type ClusterNode,
  type ClusterNodeOptions,
  ownersSeenBy,
  spawnClusterNode,
  until,
} from "../testkit/cluster-process.ts";
import {
  inputPartitions,
  kafkaBrokers,
  mosquittoUrl,
  requireRealServers,
  runId,
} from "../testkit/real-servers.ts";
import { rollingRestart } from "../testkit/rolling-restart.ts";
import { startSensorLoad } from "../testkit/sensor-load.ts";
import { startGroupAtEnd, WindowAudit } from "../testkit/window-audit.ts";

const flags = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) flags.set(argv[i]!.replace(/^--/, ""), argv[i + 1] ?? "");
const number = (name: string, fallback: number) => {
  const value = Number(flags.get(name) ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
};
const build = flags.get("build") ? resolve(flags.get("build")!) : undefined;
const nodeCount = number("nodes", 2);
const windowMs = number("window-ms", 2000);
const settleMs = number("settle-ms", 2 * windowMs);

await requireRealServers();
const app = runId("drill-roll");
const prefix = `${app}-s`;
const partitions = await inputPartitions(6);
const audit = await WindowAudit.begin(kafkaBrokers, prefix, windowMs);
await startGroupAtEnd(kafkaBrokers, app, audit.client);
const dataDirs = Array.from({ length: nodeCount }, (_, i) => mkdtempSync(join(tmpdir(), `drill-node-${i}-`)));
const optionsOf = (index: number): ClusterNodeOptions => ({
  applicationId: app,
  brokers: kafkaBrokers,
  mqttUrl: mosquittoUrl,
  partitions,
  windowMs,
  graceMs: 1000,
  commitIntervalMs: 200,
  dataDir: dataDirs[index]!,
  startTimeoutMs: 90_000,
});
const nodes: ClusterNode[] = [];
let ok = false;
try {
  console.log(`drill ${app}: starting ${nodeCount} nodes (${partitions} partitions)`);
  nodes.push(...(await Promise.all(dataDirs.map((_, i) => spawnClusterNode(optionsOf(i))))));
  await until(
    () => ownersSeenBy(nodes[0]!),
    (view) => view.size === nodeCount && [...view.values()].flat().length === partitions,
    90_000,
    "every node to own partitions",
  );
  const load = await startSensorLoad({
    mqttUrl: mosquittoUrl,
    prefix,
    sensors: number("sensors", 12),
    intervalMs: number("interval-ms", 100),
  });
  await Bun.sleep(settleMs);
  console.log(`rolling restart onto ${build ?? "this checkout"}`);
  const steps = await rollingRestart(nodes, optionsOf, {
    partitions,
    settleMs,
    stepTimeoutMs: 90_000,
    ...(build ? { repoDir: build } : {}),
    onStep: (s) =>
      console.log(
        `  node ${s.node}: stopped in ${s.stopMs} ms (exit ${s.exitCode}), partitions handed over after ${s.handedOverMs} ms, back after ${s.rejoinedMs} ms`,
      ),
  });
  await load.stop();
  const closerAt = await load.closeWindows(20_000);
  const report = await until(
    () => audit.audit(load.acknowledged, audit.windowOf(closerAt)),
    (r) => r.mismatches.length === 0 && r.missingFromRaw.length === 0,
    60_000,
    "every window to be final with its raw count",
  ).catch(() => audit.audit(load.acknowledged, audit.windowOf(closerAt)));
  await load.end();
  const unclean = steps.filter((s) => s.exitCode !== 0);
  console.log(
    `readings acknowledged by MQTT ${load.acknowledged.length}, lost ${report.missingFromRaw.length}; ` +
      `windows checked ${report.windowsChecked}, miscounted ${report.mismatches.length}; unclean stops ${unclean.length}`,
  );
  for (const m of report.mismatches.slice(0, 20)) console.log(`  window ${m}`);
  for (const r of report.missingFromRaw.slice(0, 20)) console.log(`  lost ${r.sensor} at ${r.at}`);
  for (const s of unclean)
    console.log(`  node ${s.node} was killed after its stop hung; its last output:\n${s.outputTail}`);
  ok = report.missingFromRaw.length === 0 && report.mismatches.length === 0 && unclean.length === 0;
  console.log(ok ? "drill passed" : "drill FAILED");
} finally {
  await Promise.all(nodes.map((node) => node.stop()));
  await audit.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
