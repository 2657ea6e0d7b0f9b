import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { openLog } from "../../log/index.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { type EmbeddedNodeProcess, embeddedNodeOnMqttPort } from "../../testkit/embedded-node-process.ts";
import { trafficReading } from "../../testkit/traffic-reading.ts";

/**
 * A device publishing QoS 1 to a node's embedded broker loses nothing the broker acknowledged
 * when the node is killed with -9 mid-stream: the broker PUBACKs a reading only after the
 * ingest's PUBACK, which follows the durable append (sources/mqtt/aedes-ack-chain.ts). The node
 * is started again on the same data and MQTT port; the device reconnects and resends what it was
 * not acknowledged. Every acknowledged reading is then on city.sensors.raw; a reading appended
 * whose PUBACK died with the node is there twice, which the test reports.
 */
const TOTAL = 3000;
const IN_FLIGHT = 200;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function loggedReadings(dataDir: string, topic: string): Promise<string[]> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  const keys: string[] = [];
  try {
    for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
      for (let offset = 0; ; ) {
        const batch = await log.read({ topic, partition }, { fromOffset: offset, maxRecords: 5000 });
        if (batch.length === 0) break;
        for (const r of batch) {
          const reading = JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as Record<
            string,
            unknown
          >;
          keys.push(`${String(reading.sensor_id)}@${String(reading.timestamp)}`);
        }
        offset = batch.at(-1)!.offset + 1;
      }
  } finally {
    await log.close();
  }
  return keys;
}

test("kill -9 of a node mid-stream loses none of the readings its embedded broker acknowledged", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "edge-broker-kill-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  // the broker's port is chosen by the test, so the device reconnects to it after the kill
  const first = await embeddedNodeOnMqttPort({ dataDir, simulate: false });
  const mqttPort = first.mqttPort;
  let node: EmbeddedNodeProcess = first.node;
  cleanups.push(() => void node.proc.kill("SIGKILL"));

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: "edge-kill-device",
    reconnectPeriod: 100,
  });
  cleanups.push(() => device.endAsync(true));
  // while the node is down or starting (refused: server unavailable) the device only reconnects
  const connectionErrors: string[] = [];
  device.on("error", (error) => connectionErrors.push(error.message));
  const start = Date.parse("2026-01-01T00:00:00Z");
  const acked: string[] = [];
  const publishing = (async () => {
    for (let i = 0; i < TOTAL; i += IN_FLIGHT) {
      const window = Array.from({ length: Math.min(IN_FLIGHT, TOTAL - i) }, (_, j) => i + j);
      await Promise.all(
        window.map(async (n) => {
          const reading = trafficReading(`t-${n % 50}`, start + n * 1000);
          await device.publishAsync(`city/sensors/traffic/${reading.sensor_id}`, JSON.stringify(reading), {
            qos: 1,
          });
          acked.push(`${reading.sensor_id}@${reading.timestamp}`);
        }),
      );
    }
  })();
  // a bounded wait on the condition itself: a third acknowledged, then the kill
  const deadline = Date.now() + 60_000;
  while (acked.length < TOTAL / 3) {
    if (Date.now() > deadline) throw new Error(`only ${acked.length} readings acknowledged before the kill`);
    await Bun.sleep(5);
  }
  node.proc.kill("SIGKILL");
  await node.proc.exited;
  const ackedBeforeKill = acked.length;

  node = await first.restart();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    publishing,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `only ${acked.length} of ${TOTAL} acknowledged after the restart (${device.connected ? "connected" : "not connected"}; ${connectionErrors.slice(-3).join("; ")})`,
            ),
          ),
        90_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  expect(acked.length).toBe(TOTAL);

  node.proc.kill("SIGTERM");
  expect(await node.proc.exited).toBe(0);
  const logged = await loggedReadings(dataDir, Topics.sensorsRaw);
  const refused = await loggedReadings(dataDir, Topics.deadLetters);
  expect(refused).toEqual([]);
  const inLog = new Set(logged);
  const missing = acked.filter((key) => !inLog.has(key));
  console.log(
    `embedded broker kill -9: ${ackedBeforeKill} acknowledged before the kill, ${missing.length} missing, ${logged.length - inLog.size} duplicates`,
  );
  expect(missing).toEqual([]);
}, 240_000);
