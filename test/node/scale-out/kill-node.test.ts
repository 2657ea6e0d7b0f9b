import { afterAll, beforeAll, expect, test } from "bun:test";
import { partitionFor } from "../../../messages/murmur2.ts";
import {
  type ClusterNode,
  getJson,
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
import { type SensorLoad, startSensorLoad } from "../../../testkit/sensor-load.ts";
import { holdSharedInput } from "../../../testkit/shared-input-lock.ts";
import { startGroupAtEnd, WindowAudit } from "../../../testkit/window-audit.ts";

/**
 * kill -9 one of two cluster processes under continuous load: the survivor takes over every
 * partition, restores the moved partitions' window state from the changelogs, replays from the
 * committed offsets, and every window counts each reading that reached the log exactly once; the
 * survivor rescues the victim's MQTT session, so no reading the broker acknowledged is lost.
 * Like every scale-out test, it must not run beside another run of these tests on the same
 * Mosquitto: every node subscribes to city/sensors/#, so a foreign application ingests this
 * run's readings into the shared input topic a second time.
 */
const WINDOW_MS = 2000;
const app = runId("so-kill");
const prefix = `${app}-s`;
const nodes: ClusterNode[] = [];
let partitions = 6;
let audit: WindowAudit | undefined;
let load: SensorLoad | undefined;

// other runs' nodes on this broker would read this run's sensors (testkit/shared-input-lock.ts)
let releaseInput: (() => void) | undefined;

beforeAll(async () => {
  await requireRealServers();
  if (skipScaleOut) return;
  releaseInput = await holdSharedInput(kafkaBrokers);
  partitions = await inputPartitions(6);
  audit = await WindowAudit.begin(kafkaBrokers, prefix, WINDOW_MS);
  await startGroupAtEnd(kafkaBrokers, app, audit.client);
  const options = {
    applicationId: app,
    brokers: kafkaBrokers,
    mqttUrl: mosquittoUrl,
    partitions,
    windowMs: WINDOW_MS,
    graceMs: 1000,
    commitIntervalMs: 200,
  };
  nodes.push(...(await Promise.all([spawnClusterNode(options), spawnClusterNode(options)])));
}, 720_000);

afterAll(async () => {
  try {
    await load?.end();
    await Promise.all(nodes.map((node) => node.stop()));
    await audit?.close();
  } finally {
    releaseInput?.();
  }
});

test.skipIf(skipScaleOut)(
  "kill -9 of one of two nodes under load: the survivor owns every partition and every window counts each logged reading once",
  async () => {
    const [survivor, victim] = nodes as [ClusterNode, ClusterNode];
    const all = Array.from({ length: partitions }, (_, p) => p);
    const before = await until(
      () => ownersSeenBy(survivor),
      (view) => view.size === 2 && [...view.values()].flat().length === partitions,
      45_000,
      "both nodes to own partitions",
    );
    const moved = new Set(before.get(victim.apiUrl) ?? []);
    expect(moved.size).toBeGreaterThan(0);

    load = await startSensorLoad({ mqttUrl: mosquittoUrl, prefix, sensors: 12, intervalMs: 100 });
    const movedSensor = load.sensors.find((s) => moved.has(partitionFor(s, partitions)));
    expect(movedSensor).toBeDefined();
    // a few windows before the failure, and their state checkpointed on the victim
    await Bun.sleep(4 * WINDOW_MS);

    const killedAt = Date.now();
    await victim.killHard();
    await until(
      () => ownersSeenBy(survivor),
      (view) => view.size === 1 && JSON.stringify(view.get(survivor.apiUrl)) === JSON.stringify(all),
      40_000,
      "the survivor to announce every partition",
    );
    const ownedAllAfterMs = Date.now() - killedAt;
    await until(
      () =>
        getJson<{ reading?: { event_time: number } }>(
          `${survivor.apiUrl}/api/sensors/${movedSensor}/readings/latest`,
        ),
      (answer) => (answer.reading?.event_time ?? 0) > killedAt,
      20_000,
      "the survivor to process a moved sensor's readings published after the kill",
    );
    const processingAfterMs = Date.now() - killedAt;

    await Bun.sleep(2 * WINDOW_MS);
    await load.stop();
    const closerAt = await load.closeWindows(20_000);
    const open = audit!.windowOf(closerAt);
    const report = await until(
      () => audit!.audit(load!.acknowledged, open),
      // the closing readings reach the log last: wait for them too
      (r) => r.mismatches.length === 0 && r.missingFromRaw.length === 0,
      30_000,
      "every window to be final with its raw count",
    ).catch(async () => audit!.audit(load!.acknowledged, open));

    console.log(
      `kill -9: survivor owned all ${partitions} partitions after ${ownedAllAfterMs} ms, processed moved readings after ${processingAfterMs} ms; ` +
        `${report.rawRecords} raw records (${report.rawDuplicates} duplicates, ${report.lateReadings} late), ${report.windowsChecked} windows, ` +
        `${report.finalWindowsInTopic} final windows in the topic, ${report.missingFromRaw.length} of ${load.acknowledged.length} acknowledged readings not in raw`,
    );
    expect(report.mismatches).toEqual([]);
    expect(report.windowsChecked).toBeGreaterThan(12 * 5);
    // Nothing the broker acknowledged is lost: the subscriber PUBACKs only after the append, and
    // the victim's persistent session (its queue and what was in flight) is rescued by the
    // survivor the moment the broker publishes the victim's will.
    expect(report.missingFromRaw.map((r) => ({ ...r, msFromKill: r.at - killedAt }))).toEqual([]);
  },
  90_000,
);
