import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { type ClusterNode, getJson, spawnClusterNode } from "../../../testkit/cluster-process.ts";
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
 * The Kafka broker restarts mid-run (infra/down.sh kafka, infra/up.sh kafka) under continuous
 * load: the node keeps running, ingest holds MQTT QoS 1 acks while the log is away (the broker
 * keeps the readings), output appends and commits wait and resume, and every window counts
 * each reading exactly once. Only runs against the infra/ broker (it restarts it).
 */
const WINDOW_MS = 2000;
const REPO = join(import.meta.dir, "..", "..", "..");
const app = runId("so-restart");
const prefix = `${app}-s`;
const usesInfraBroker = /^(127\.0\.0\.1|localhost):9092$/.test(kafkaBrokers);
let node: ClusterNode | undefined;
let audit: WindowAudit | undefined;
let load: SensorLoad | undefined;

async function infra(script: "up.sh" | "down.sh"): Promise<void> {
  const proc = Bun.spawn(["bash", join(REPO, "infra", script), "kafka"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`infra/${script} kafka failed (${code}):\n${out}\n${err}`);
}

// other runs' nodes on this broker would read this run's sensors (testkit/shared-input-lock.ts)
let releaseInput: (() => void) | undefined;

beforeAll(async () => {
  await requireRealServers();
  if (skipScaleOut || !usesInfraBroker) return;
  releaseInput = await holdSharedInput(kafkaBrokers);
  const partitions = await inputPartitions(6);
  audit = await WindowAudit.begin(kafkaBrokers, prefix, WINDOW_MS);
  await startGroupAtEnd(kafkaBrokers, app, audit.client);
  node = await spawnClusterNode({
    applicationId: app,
    brokers: kafkaBrokers,
    mqttUrl: mosquittoUrl,
    partitions,
    windowMs: WINDOW_MS,
    graceMs: 1000,
    commitIntervalMs: 200,
  });
}, 720_000);

afterAll(async () => {
  try {
    // whatever happened, leave the broker running for the rest of the suite
    await infra("up.sh").catch((error: unknown) => console.error(error));
    await load?.end();
    await node?.stop();
    await audit?.close();
  } finally {
    releaseInput?.();
  }
});

test.skipIf(skipScaleOut || !usesInfraBroker)(
  "a Kafka broker restart under load: the node resumes and every window counts each reading exactly once",
  async () => {
    const current = node!;
    load = await startSensorLoad({ mqttUrl: mosquittoUrl, prefix, sensors: 8, intervalMs: 100 });
    await Bun.sleep(3 * WINDOW_MS);

    const downAt = Date.now();
    await infra("down.sh");
    await Bun.sleep(2000);
    await infra("up.sh");
    const upAt = Date.now();

    // processing again: a reading published after the broker came back reaches the node's view
    const sensor = load.sensors[0]!;
    const deadline = Date.now() + 45_000;
    let resumedAt = 0;
    while (Date.now() < deadline) {
      const answer = await getJson<{ reading?: { event_time: number } }>(
        `${current.apiUrl}/api/sensors/${sensor}/readings/latest`,
      ).catch(() => undefined);
      if ((answer?.reading?.event_time ?? 0) > upAt) {
        resumedAt = Date.now();
        break;
      }
      await Bun.sleep(200);
    }
    if (resumedAt === 0) await Bun.write("/tmp/restart-node.log", current.output());
    expect({ resumed: resumedAt > 0, output: resumedAt > 0 ? "" : current.output().slice(-3000) }).toEqual({
      resumed: true,
      output: "",
    });
    await Bun.sleep(2 * WINDOW_MS);
    await load.stop();
    const closerAt = await load.closeWindows(20_000);
    const open = audit!.windowOf(closerAt);
    let report = await audit!.audit(load.acknowledged, open);
    const auditDeadline = Date.now() + 30_000;
    while ((report.mismatches.length > 0 || report.missingFromRaw.length > 0) && Date.now() < auditDeadline) {
      await Bun.sleep(500);
      report = await audit!.audit(load.acknowledged, open);
    }
    console.log(
      `Kafka restart: down ${upAt - downAt} ms (stop + 2 s + start), node processing again ${resumedAt - upAt} ms after the broker was up; ` +
        `${report.rawRecords} raw records (${report.rawDuplicates} duplicates, ${report.lateReadings} late), ${report.windowsChecked} windows, ` +
        `${report.missingFromRaw.length} of ${load.acknowledged.length} acknowledged readings not in raw`,
    );
    expect(current.output()).not.toContain("node failed");
    expect(report.mismatches).toEqual([]);
    expect(report.missingFromRaw).toEqual([]);
    expect(report.windowsChecked).toBeGreaterThan(8 * 5);
  },
  90_000,
);
