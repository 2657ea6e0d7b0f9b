import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { openLog } from "../../log/index.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";
import { mosquittoUrl, requireRealServers, runId } from "../../testkit/real-servers.ts";
import { eventually, testNodeConfig, trafficReading } from "./node-fixture.ts";

/**
 * A graceful stop loses nothing the broker acknowledged, and a restart picks up what the broker
 * queued for the node while it was away. (A SIGTERM under 1,000 QoS 1 readings a second used to
 * lose the last few hundred readings, and a clean session dropped what came during a restart.)
 */
const PARTITIONS = 4;

/** (sensor, event time) of every reading in the node's embedded log */
async function loggedReadings(dataDir: string): Promise<Set<string>> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db") });
  try {
    const seen = new Set<string>();
    for (let partition = 0; partition < PARTITIONS; partition++)
      for (const record of await log.read(
        { topic: Topics.sensorsRaw, partition },
        { maxRecords: 1_000_000 },
      )) {
        const reading = JSON.parse(new TextDecoder().decode(payloadOf(record.value!))) as {
          sensor_id: string;
          timestamp: string;
        };
        seen.add(`${reading.sensor_id}@${Date.parse(reading.timestamp)}`);
      }
    return seen;
  } finally {
    await log.close();
  }
}

async function processedWindows(node: RunningNode): Promise<WindowResult[]> {
  const all: WindowResult[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++)
    for (const record of await node.log.read(
      { topic: Topics.processed("traffic"), partition },
      { maxRecords: 1_000_000 },
    ))
      all.push(JSON.parse(new TextDecoder().decode(payloadOf(record.value!))) as WindowResult);
  return all.filter((w) => w.final);
}

const finalSensorWindows = async (node: RunningNode) =>
  (await processedWindows(node)).filter((w) => w.scope === "sensor");
const finalTypeWindows = async (node: RunningNode) =>
  (await processedWindows(node)).filter((w) => w.scope === "type");
const distinctWindows = (windows: readonly WindowResult[]) =>
  new Set(windows.map((w) => `${w.key}@${w.window_start}`)).size;

describe("stopping a node", () => {
  test("a stop under 1,000 QoS 1 readings a second keeps every reading the embedded broker acknowledged", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "graceful-stop-"));
    try {
      const node = await startNode(testNodeConfig(dataDir, { partitions: PARTITIONS, workers: 2 }));
      const client = await mqtt.connectAsync(node.mqttUrl, { reconnectPeriod: 0 });
      client.on("error", () => {}); // the broker goes away with the node
      const acknowledged: string[] = [];
      const start = Date.now() - 60_000;
      let publishing = true;
      let seq = 0;
      const publishing1000PerSecond = (async () => {
        while (publishing && client.connected) {
          const batch = Array.from({ length: 10 }, () => {
            const i = seq++;
            const sensor = `traffic_stop${i % 20}`;
            const at = start + i;
            return client
              .publishAsync(`city/sensors/traffic/${sensor}`, JSON.stringify(trafficReading(sensor, at)), {
                qos: 1,
              })
              .then(
                () => acknowledged.push(`${sensor}@${at}`),
                () => {}, // not acknowledged: the publisher would send it again
              );
          });
          await Promise.all([...batch, Bun.sleep(10)]);
        }
      })();
      // the stop comes under load, with plenty acknowledged already: counted, not timed (a
      // loaded machine acknowledges fewer a second; the test asserts what is kept, not speed)
      await eventually(
        () => acknowledged.length,
        (n) => n > 1500,
        60_000,
      );
      const stopStarted = Date.now();
      await node.stop(); // what SIGTERM does
      const stopMs = Date.now() - stopStarted;
      publishing = false;
      // publishes the closed broker never answered stay unacknowledged; do not wait for them
      client.end(true);
      await Promise.race([publishing1000PerSecond, Bun.sleep(2000)]);
      expect(stopMs).toBeLessThan(30_000);

      expect(acknowledged.length).toBeGreaterThan(1500);
      const logged = await loggedReadings(dataDir);
      expect(acknowledged.filter((id) => !logged.has(id))).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a stop under a backlog far larger than its budget can process ends within the budget; a restart counts every reading once", async () => {
    // regression: a node far behind (20k readings/s offered) drained for its whole stop and its
    // wrapper killed it at 60 s. Now a stop commits what was processed and abandons the rest
    // uncommitted within STOP_TIMEOUT_MS; the next start reads it again against the saved state.
    const dataDir = mkdtempSync(join(tmpdir(), "stop-budget-"));
    const STOP_TIMEOUT_MS = 6_000;
    const SENSORS = 20;
    const WINDOWS = 40;
    const PER_WINDOW = 100;
    const config = testNodeConfig(dataDir, {
      partitions: PARTITIONS,
      windowMs: 1000,
      commitIntervalMs: 200,
      stopTimeoutMs: STOP_TIMEOUT_MS,
    });
    const windowStart = Math.floor((Date.now() - 600_000) / 1000) * 1000;
    try {
      // a first life makes the topics; the backlog is appended while no node runs
      await (await startNode(config)).stop();
      // 80,000 readings: 40 one-second windows of 100 per sensor, and one reading a minute later
      // per sensor that closes them all by the sensor's own event time
      const encoder = new TextEncoder();
      const records = [];
      for (let i = 0; i < WINDOWS * PER_WINDOW; i++)
        for (let s = 0; s < SENSORS; s++) {
          const sensor = `traffic_budget${s}`;
          const at = windowStart + i * (1000 / PER_WINDOW);
          records.push({
            topic: Topics.sensorsRaw,
            key: sensor,
            value: encoder.encode(JSON.stringify(trafficReading(sensor, at, 1))),
            timestamp: at,
          });
        }
      for (let s = 0; s < SENSORS; s++) {
        const sensor = `traffic_budget${s}`;
        const at = windowStart + WINDOWS * 1000 + 60_000;
        records.push({
          topic: Topics.sensorsRaw,
          key: sensor,
          value: encoder.encode(JSON.stringify(trafficReading(sensor, at, 1))),
          timestamp: at,
        });
      }
      const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db") });
      for (let i = 0; i < records.length; i += 5_000) await log.append(records.slice(i, i + 5_000));
      await log.close();
      let node = await startNode(config);
      await eventually(
        () => node.progress().consumed,
        (n) => n > 0,
      );
      const consumedAtStop = node.progress().consumed;
      const began = performance.now();
      await node.stop();
      const stopMs = performance.now() - began;
      expect(stopMs).toBeLessThan(STOP_TIMEOUT_MS);
      // the stop came with the backlog mostly unread (at most 64 batches of 1,000 in flight)
      expect(consumedAtStop).toBeLessThan(records.length);

      node = await startNode(config);
      // every sensor's 40 windows, each with its 100 readings: as a run without the stop
      const windows = await eventually(
        () => finalSensorWindows(node),
        (all) => distinctWindows(all) === SENSORS * WINDOWS,
        90_000,
      );
      const typeWindows = await eventually(
        () => finalTypeWindows(node),
        (all) => new Set(all.map((w) => w.window_start)).size === WINDOWS,
        60_000,
      );
      await node.stop();
      // a final window emitted again after the replay is the same window, never a partial one
      expect(windows.filter((w) => w.count !== PER_WINDOW)).toEqual([]);
      expect(distinctWindows(windows)).toBe(SENSORS * WINDOWS);
      expect(typeWindows.filter((w) => w.count !== SENSORS * PER_WINDOW)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  test("a restart ingests what the external broker queued for the node's persistent session while it was stopped", async () => {
    await requireRealServers();
    const dataDir = mkdtempSync(join(tmpdir(), "restart-queue-"));
    const app = runId("restart-queue");
    const config = testNodeConfig(dataDir, {
      partitions: PARTITIONS,
      applicationId: app,
      mqttUrl: mosquittoUrl,
    });
    try {
      let node = await startNode(config);
      await node.stop();

      // published while the node is down: the broker acknowledges and queues them for its session
      const client = await mqtt.connectAsync(mosquittoUrl, { clientId: `${app}-publisher` });
      const start = Date.now() - 60_000;
      const acknowledged: string[] = [];
      for (let i = 0; i < 200; i++) {
        const sensor = `${app}-s${i % 10}`;
        await client.publishAsync(
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, start + i)),
          {
            qos: 1,
          },
        );
        acknowledged.push(`${sensor}@${start + i}`);
      }
      await client.endAsync();

      node = await startNode(config);
      await eventually(
        () => node.progress().ingested,
        (n) => n >= acknowledged.length,
      );
      await node.stop();
      const logged = await loggedReadings(dataDir);
      expect(acknowledged.filter((id) => !logged.has(id))).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
