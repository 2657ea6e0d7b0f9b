import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import type { Alert } from "../../messages/alert.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";
import { eventually, testNodeConfig, trafficReading } from "./node-fixture.ts";

/**
 * Issue 7: at 20k readings/s the node fell behind and wrote one `ops.alerts` record per sensor.
 * The timeliness rule judged each reading against the moment the node got to it, so a backlog
 * was late data for every sensor at once. Here a node starts on a backlog in its input topic,
 * five minutes old, received by ingest on time (its `ingested_at` 100 ms after the event time);
 * one sensor's readings were received 30 s late. Only that sensor's data is late: the
 * low-quality rule fires for it alone. One partition, so the late sensor's readings, written
 * after the others', are judged after them (its alert says the others' have been evaluated).
 */
const ON_TIME = Array.from({ length: 10 }, (_, i) => `traffic_backlog_${i}`);
const LATE = "traffic_received_late";
const READINGS = 12;

async function lowQualityAlerts(node: RunningNode): Promise<string[]> {
  const sensors: string[] = [];
  for (const record of await node.log.read({ topic: Topics.alerts, partition: 0 }, { maxRecords: 10_000 })) {
    // JSON, registry-framed (magic byte 0) when the topic has a schema
    const bytes = record.value![0] === 0 ? payloadOf(record.value!) : record.value!;
    const alert = JSON.parse(new TextDecoder().decode(bytes)) as Alert;
    if (alert.labels.alertname === "low-quality" && alert.status === "firing")
      sensors.push(alert.labels.sensor_id ?? "");
  }
  return sensors.sort();
}

test("a backlog received on time and read minutes later fires no low-quality alert; data received late still does", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "backlog-alerts-"));
  // readings one a second, as the fleet's interval says (5 sensors per type at 15 readings/s)
  const config = testNodeConfig(dataDir, { partitions: 1, windowMs: 60_000, sensorsPerType: 5, rate: 15 });
  const windowStart = Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000;
  const log = openEmbeddedLog({ path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    await log.createTopic({ name: Topics.sensorsRaw, partitions: 1 });
    const backlog = [...ON_TIME, LATE].flatMap((sensor) =>
      Array.from({ length: READINGS }, (_, i) => {
        const at = windowStart + i * 1000;
        const receivedAt = at + (sensor === LATE ? 30_000 : 100);
        return {
          topic: Topics.sensorsRaw,
          key: sensor,
          value: new TextEncoder().encode(
            JSON.stringify(trafficReading(sensor, at, 20 + ((i * 7) % 13), 40 + (i % 5))),
          ),
          headers: [{ key: "ingested_at", value: String(receivedAt) }],
        };
      }),
    );
    await log.append(backlog);
  } finally {
    await log.close();
  }

  const node = await startNode(config);
  try {
    const fired = await eventually(
      () => lowQualityAlerts(node),
      (sensors) => sensors.includes(LATE),
      30_000,
    );
    expect(fired).toEqual([LATE]);
    const onTime = node.view.latestReading(ON_TIME[0]!);
    expect(onTime?.history).toBe(READINGS);
    expect(onTime?.issues.filter((issue) => issue.family === "timeliness")).toEqual([]);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
