import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClusterNode,
  type ClusterNodeOptions,
  ownersSeenBy,
  spawnClusterNode,
  until,
} from "../../../testkit/cluster-process.ts";
import {
  inputPartitions,
  kafkaBrokers,
  mosquittoUrl,
  requireRealServers,
  runId,
  skipScaleOut,
} from "../../../testkit/real-servers.ts";
import { rollingRestart } from "../../../testkit/rolling-restart.ts";
import { type SensorLoad, startSensorLoad } from "../../../testkit/sensor-load.ts";
import { holdSharedInput } from "../../../testkit/shared-input-lock.ts";
import { startGroupAtEnd, WindowAudit } from "../../../testkit/window-audit.ts";

/**
 * A rolling restart of a two-node application under continuous QoS 1 load, on the real Kafka and
 * Mosquitto: each node in turn is stopped with SIGTERM and started again (the new build) with its
 * DATA_DIR, while the other keeps running. Zero readings the broker acknowledged are lost (the
 * stopped node's MQTT session is rescued by the other, then taken back), and every window counts
 * each logged reading exactly once (no window double-counted by the hand-overs and replays).
 * Like every scale-out test, it must not run beside another run of these tests on the same
 * Mosquitto (every node subscribes to city/sensors/#).
 */
const WINDOW_MS = 2000;
// Regressions it found (ARCHITECTURE 5): records of a revoked partition dispatched after its
// actors were evicted (partial windows), and a commit deadlocked on the rebalance it caused
// (stops of 40 s).
const app = runId("so-roll");
const prefix = `${app}-s`;
const nodes: ClusterNode[] = [];
const dataDirs: string[] = [];
let partitions = 6;
let audit: WindowAudit | undefined;
let load: SensorLoad | undefined;

const optionsOf = (index: number): ClusterNodeOptions => ({
  applicationId: app,
  brokers: kafkaBrokers,
  mqttUrl: mosquittoUrl,
  partitions,
  windowMs: WINDOW_MS,
  graceMs: 1000,
  commitIntervalMs: 200,
  dataDir: dataDirs[index]!,
  // a node's start reads its models, registries and reference tables: slow on a busy machine
  startTimeoutMs: 90_000,
});

// other runs' nodes on this broker would read this run's sensors (testkit/shared-input-lock.ts)
let releaseInput: (() => void) | undefined;

beforeAll(async () => {
  await requireRealServers();
  if (skipScaleOut) return;
  releaseInput = await holdSharedInput(kafkaBrokers);
  partitions = await inputPartitions(6);
  audit = await WindowAudit.begin(kafkaBrokers, prefix, WINDOW_MS);
  await startGroupAtEnd(kafkaBrokers, app, audit.client);
  dataDirs.push(mkdtempSync(join(tmpdir(), "rolling-a-")), mkdtempSync(join(tmpdir(), "rolling-b-")));
  nodes.push(...(await Promise.all([spawnClusterNode(optionsOf(0)), spawnClusterNode(optionsOf(1))])));
}, 720_000);

afterAll(async () => {
  try {
    await load?.end();
    await Promise.all(nodes.map((node) => node.stop()));
    await audit?.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  } finally {
    releaseInput?.();
  }
});

test.skipIf(skipScaleOut)(
  "a rolling restart of two nodes under load loses no acknowledged reading and counts every window once",
  async () => {
    await until(
      () => ownersSeenBy(nodes[0]!),
      (view) => view.size === 2 && [...view.values()].flat().length === partitions,
      45_000,
      "both nodes to own partitions",
    );
    load = await startSensorLoad({ mqttUrl: mosquittoUrl, prefix, sensors: 12, intervalMs: 100 });
    // a few windows before the first stop, their state checkpointed
    await Bun.sleep(3 * WINDOW_MS);

    const steps = await rollingRestart(nodes, optionsOf, {
      partitions,
      settleMs: 2 * WINDOW_MS,
      stepTimeoutMs: 90_000,
    });

    await load.stop();
    const closerAt = await load.closeWindows(20_000);
    const open = audit!.windowOf(closerAt);
    const report = await until(
      () => audit!.audit(load!.acknowledged, open),
      (r) => r.mismatches.length === 0 && r.missingFromRaw.length === 0,
      45_000,
      "every window to be final with its raw count",
    ).catch(async () => audit!.audit(load!.acknowledged, open));

    console.log(
      `rolling restart: ${steps.map((s) => `node ${s.node} stopped in ${s.stopMs} ms (exit ${s.exitCode}), others owned all after ${s.handedOverMs} ms, back after ${s.rejoinedMs} ms`).join("; ")}; ` +
        `${report.rawRecords} raw records (${report.rawDuplicates} duplicates, ${report.lateReadings} late), ${report.windowsChecked} windows, ` +
        `${report.finalWindowsInTopic} final windows in the topic, ${report.missingFromRaw.length} of ${load.acknowledged.length} acknowledged readings not in raw`,
    );
    for (const step of steps) {
      if (step.stopNotes.length > 0)
        console.log(`node ${step.node} on its stop:\n${step.stopNotes.join("\n")}`);
      if (step.outputTail) console.log(`node ${step.node} output:\n${step.outputTail}`);
    }
    expect(steps.map((s) => s.exitCode)).toEqual([0, 0]);
    expect(report.mismatches).toEqual([]);
    expect(report.windowsChecked).toBeGreaterThan(12 * 5);
    expect(report.missingFromRaw).toEqual([]);
  },
  420_000,
);
