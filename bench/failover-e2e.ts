/**
 * Issue 3's failover, end to end: two `bun cluster.ts` nodes of one application on the real
 * Kafka and Mosquitto, FAILOVER_SENSORS sensors (one window key and one sensor state each)
 * reporting every second; after the state is checkpointed, kill -9 one node and time (a) until
 * the survivor announces every partition and (b) until it processes a moved sensor's new
 * reading, which needs the moved partitions' state restored from the changelogs first.
 * Baseline, same run: the Kafka session timeout the survivor must wait out before the group
 * coordinator moves the partitions (KAFKA_SESSION_TIMEOUT_MS), the floor of any failover.
 *
 *   bun run infra:up && bun bench/failover-e2e.ts          (FAILOVER_SENSORS=5000)
 * Target: <= 5 s with 1M window keys. Per-sensor window actors (~11 KB each, ARCHITECTURE.md)
 * put 1M keys out of this machine's reach; the figure is printed with the key count it had.
 */
import { partitionFor } from "../messages/murmur2.ts";
import {
  type ClusterNode,
  getJson,
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
import { startSensorLoad } from "../testkit/sensor-load.ts";
import { startGroupAtEnd, WindowAudit } from "../testkit/window-audit.ts";
import { printFigure } from "./support.ts";

const sensors = Number(process.env.FAILOVER_SENSORS ?? 5000);
const sessionTimeoutMs = Number(process.env.KAFKA_SESSION_TIMEOUT_MS ?? 3000);

await requireRealServers();
const app = runId("failover-bench");
const partitions = await inputPartitions(6);
const audit = await WindowAudit.begin(kafkaBrokers, `${app}-s`, 60_000);
await startGroupAtEnd(kafkaBrokers, app, audit.client);
const options = {
  applicationId: app,
  brokers: kafkaBrokers,
  mqttUrl: mosquittoUrl,
  partitions,
  windowMs: 60_000,
  graceMs: 5000,
  commitIntervalMs: 1000,
};
const nodes: ClusterNode[] = await Promise.all([spawnClusterNode(options), spawnClusterNode(options)]);
const load = await startSensorLoad({ mqttUrl: mosquittoUrl, prefix: `${app}-s`, sensors, intervalMs: 1000 });
try {
  const [survivor, victim] = nodes as [ClusterNode, ClusterNode];
  const all = Array.from({ length: partitions }, (_, p) => p);
  const before = await until(
    () => ownersSeenBy(survivor),
    (view) => view.size === 2 && [...view.values()].flat().length === partitions,
    60_000,
    "both nodes to own partitions",
  );
  const moved = new Set(before.get(victim.apiUrl) ?? []);
  const movedSensor = load.sensors.find((s) => moved.has(partitionFor(s, partitions)))!;
  // every sensor reports a few times and the victim checkpoints its state
  await Bun.sleep(6000);

  const killedAt = Date.now();
  await victim.killHard();
  await until(
    () => ownersSeenBy(survivor),
    (view) => view.size === 1 && JSON.stringify(view.get(survivor.apiUrl)) === JSON.stringify(all),
    60_000,
    "the survivor to announce every partition",
  );
  const ownedAllAfterMs = Date.now() - killedAt;
  await until(
    () =>
      getJson<{ reading?: { event_time: number } }>(
        `${survivor.apiUrl}/api/sensors/${movedSensor}/readings/latest`,
      ),
    (answer) => (answer.reading?.event_time ?? 0) > killedAt,
    60_000,
    "the survivor to process a moved sensor's new reading",
  );
  const processingAfterMs = Date.now() - killedAt;
  const movedKeys = load.sensors.filter((s) => moved.has(partitionFor(s, partitions))).length;

  console.log(
    `\nfailover after kill -9, ${sensors} sensors (window keys), ${movedKeys} of them on the killed node`,
  );
  console.table({
    "survivor announces every partition": { ms: ownedAllAfterMs },
    "survivor processes a moved sensor again (state restored)": { ms: processingAfterMs },
    "baseline: Kafka session timeout": { ms: sessionTimeoutMs },
  });
  printFigure({
    name: "failover-e2e.processing-again",
    value: processingAfterMs,
    unit: "ms",
    baseline: "kafka-session-timeout",
    baseline_value: sessionTimeoutMs,
    window_keys: sensors,
    moved_keys: movedKeys,
  });
} finally {
  await load.end();
  await Promise.all(nodes.map((node) => node.stop()));
  await audit.close();
}
