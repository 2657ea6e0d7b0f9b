/**
 * The issue-7 probe against a running node: 50,000 new sensor ids in 10 s over MQTT, then the
 * node's RSS (from its /metrics, `platform_process_resident_memory_bytes`) before, right after,
 * and once the new keys' actors have passivated (SENSOR_IDLE_MS later), and the alerts raised.
 * Baseline: the node's RSS before the flood. Loopback only; the loop is bounded in count.
 *
 *   SENSOR_IDLE_MS=10000 bun run cluster -- --no-simulator --quiet &
 *   bun bench/new-key-flood.ts            # API=http://127.0.0.1:3000 MQTT=mqtt://127.0.0.1:1883
 *
 * Without a node answering at API, it starts one (`bun cluster.ts`, embedded log, WORKERS as
 * configured, SENSOR_IDLE_MS=10000) on its own ports and data dir, and stops it at the end.
 * Env: KEYS (50000), SECONDS (10), SETTLE_SECONDS (how long to wait for passivation; 30).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { printFigure } from "./support.ts";

let API = process.env.API ?? "http://127.0.0.1:3000";
let MQTT = process.env.MQTT ?? "mqtt://127.0.0.1:1883";
const KEYS = Number(process.env.KEYS ?? 50_000);
const SECONDS = Number(process.env.SECONDS ?? 10);
const SETTLE_SECONDS = Number(process.env.SETTLE_SECONDS ?? 30);

for (const url of [API, MQTT]) {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host) && !host.startsWith("127.")) {
    console.error(`${url}: this probe only runs against a node on loopback`);
    process.exit(2);
  }
}

const answers = async (url: string) =>
  fetch(`${url}/health`).then(
    (response) => response.ok,
    () => false,
  );

let ownNode: { process: ReturnType<typeof Bun.spawn>; dataDir: string } | undefined;
if (!(await answers(API))) {
  const dataDir = mkdtempSync(join(tmpdir(), "new-key-flood-"));
  API = "http://127.0.0.1:3917";
  MQTT = "mqtt://127.0.0.1:18830";
  const args = ["--port", "3917", "--mqtt-port", "18830", "--no-simulator", "--quiet", "--data-dir", dataDir];
  const child = Bun.spawn(["bun", join(import.meta.dir, "..", "cluster.ts"), ...args], {
    env: { ...process.env, SENSOR_IDLE_MS: process.env.SENSOR_IDLE_MS ?? "10000", HOST: "127.0.0.1" },
    stdout: "inherit",
    stderr: "inherit",
  });
  ownNode = { process: child, dataDir };
  const deadline = Date.now() + 60_000;
  while (!(await answers(API))) {
    if (Date.now() > deadline) throw new Error("the node did not become ready within 60 s");
    await Bun.sleep(200);
  }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${API}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(name) && (line[name.length] === " " || line[name.length] === "{"))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  return total;
}

const rssMb = async () => (await metric("platform_process_resident_memory_bytes")) / 1024 / 1024;
const alerts = async () => {
  const body = (await (await fetch(`${API}/api/alerts?limit=1000`)).json()) as unknown;
  return Array.isArray(body) ? body.length : ((body as { items?: unknown[] }).items?.length ?? 0);
};

const before = await rssMb();
const alertsBefore = await alerts();
const publisher = await mqtt.connectAsync(MQTT);
const run = Date.now().toString(36);
const started = performance.now();
const perTick = Math.ceil(KEYS / (SECONDS * 10));
for (let sent = 0; sent < KEYS; ) {
  const now = Date.now();
  for (let i = 0; i < perTick && sent < KEYS; i++, sent++) {
    const id = `flood_${run}_${sent}`;
    const payload = JSON.stringify({
      type: "traffic",
      sensor_id: id,
      timestamp: new Date(now).toISOString(),
      vehicle_count: 10 + (sent % 90),
      avg_speed: 20 + (sent % 60),
      location: { lat: 52.52, lon: 13.4 },
    });
    publisher.publish(`city/sensors/traffic/${id}`, payload, { qos: 0 });
  }
  const next = started + ((sent / perTick) * 1000) / 10;
  await Bun.sleep(Math.max(0, next - performance.now()));
}
await publisher.endAsync();
const publishSeconds = (performance.now() - started) / 1000;
await Bun.sleep(2_000);
const after = await rssMb();
await Bun.sleep(SETTLE_SECONDS * 1000);
const settled = await rssMb();
const raised = (await alerts()) - alertsBefore;

console.log(`published ${KEYS} new sensor ids in ${publishSeconds.toFixed(1)} s`);
console.log(`RSS before       ${before.toFixed(1)} MB`);
console.log(`RSS after flood  ${after.toFixed(1)} MB  (+${((after - before) * 1024 * 1024) / KEYS} B/key)`);
console.log(
  `RSS after ${SETTLE_SECONDS} s   ${settled.toFixed(1)} MB  (+${Math.round(((settled - before) * 1024 * 1024) / KEYS)} B/key)`,
);
console.log(`alerts raised    ${raised}`);
printFigure({
  name: "new-key-flood-rss-per-key",
  value: Math.round(((settled - before) * 1024 * 1024) / KEYS),
  unit: "bytes",
  baseline: "rss-before-flood-mb",
  baseline_value: Math.round(before),
  alerts: raised,
});

if (ownNode) {
  ownNode.process.kill("SIGTERM");
  await ownNode.process.exited;
  rmSync(ownNode.dataDir, { recursive: true, force: true });
}
