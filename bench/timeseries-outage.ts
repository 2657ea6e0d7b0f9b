/**
 * A time-series sink never stalls the stream: a real `bun cluster.ts` process (embedded log and
 * MQTT broker, time series into a private QuestDB) under a steady load of traffic readings; the
 * WebSocket window feed's latency (MQTT publish -> window update, as bench/e2e-latency.ts
 * measures it) with QuestDB up is the baseline, then QuestDB is killed for `--down` seconds
 * under the same load and the same latency is measured again; afterwards the bench times how
 * long the readings sink takes to catch up (its lag in /metrics back to 0).
 *
 *   bun bench/timeseries-outage.ts [--rate 5000] [--up 10] [--down 30] [--sensors 1000] [--control]
 * --control keeps QuestDB up through the second phase: the same two phases without the outage,
 * to tell the outage's effect from the drift of a long run on a shared machine.
 * Target: the p99 during the outage stays at the baseline's, and the sink catches up after.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { privateQuestDb } from "../testkit/questdb-server.ts";
import { printFigure, quantile } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rate = arg("rate", 5000);
const upSeconds = arg("up", 10);
const downSeconds = arg("down", 30);
const sensors = arg("sensors", 1000);
const control = process.argv.includes("--control");
const warmupSeconds = 3;
const port = 3950 + Math.floor(Math.random() * 40);
const mqttPort = 18_890 + Math.floor(Math.random() * 40);
const dataDir = mkdtempSync(join(tmpdir(), "ts-outage-bench-"));
const questdb = await privateQuestDb();

const node = Bun.spawn(
  [
    ...["bun", "cluster.ts", "--no-simulator", "--quiet", "--port", String(port)],
    ...["--mqtt-port", String(mqttPort), "--data-dir", dataDir, "--questdb", questdb.httpUrl],
  ],
  {
    cwd: join(import.meta.dir, ".."),
    env: { ...process.env, KAFKA_BROKERS: "", MQTT_URL: "", QUESTDB_PG_URL: questdb.pgUrl },
    stdout: "inherit",
    stderr: "inherit",
  },
);

async function metric(name: string, sink: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = new RegExp(`^${name}\\{sink="${sink}"\\} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error("the cluster did not become healthy within 60 s");
    await Bun.sleep(200);
  }
  const sendTimes = new Map<string, number>();
  let phase: "warmup" | "up" | "down" | "after" = "warmup";
  const latencies = { up: [] as number[], down: [] as number[] };
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
  ws.send(JSON.stringify({ op: "subscribe", feeds: ["windows"] }));
  ws.onmessage = (event) => {
    const now = performance.now();
    const message = JSON.parse(String(event.data)) as {
      feed?: string;
      data?: { scope: string; key: string; window_start: number; count: number; final: boolean };
    };
    const w = message.data;
    if (message.feed !== "windows" || !w || w.scope !== "sensor" || w.final) return;
    const key = `${w.key}|${w.window_start}|${w.count}`;
    const sent = sendTimes.get(key);
    if (sent === undefined) return;
    sendTimes.delete(key);
    if (phase === "up" || phase === "down") latencies[phase].push(now - sent);
  };

  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
  const counts = new Map<string, number>();
  const ids = Array.from({ length: sensors }, (_, i) => `traffic_o${i}`);
  let next = 0;
  const perTick = Math.max(1, Math.round(rate / 100));
  const publishFor = async (seconds: number) => {
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < seconds * 1000) {
      const tickStart = performance.now();
      for (let i = 0; i < perTick; i++) {
        const id = ids[next]!;
        next = (next + 1) % ids.length;
        const now = Date.now();
        const windowStart = now - (now % 60_000);
        const k = (counts.get(`${id}|${windowStart}`) ?? 0) + 1;
        counts.set(`${id}|${windowStart}`, k);
        sendTimes.set(`${id}|${windowStart}|${k}`, performance.now());
        publisher.publish(
          `city/sensors/traffic/${id}`,
          JSON.stringify({
            type: "traffic",
            sensor_id: id,
            timestamp: new Date(now).toISOString(),
            vehicle_count: 20 + (k % 30),
            avg_speed: 40 + (k % 20),
            location: { lat: 52.52, lon: 13.4 },
          }),
          { qos: 0 },
        );
        sent++;
      }
      const spare = 10 - (performance.now() - tickStart);
      if (spare > 0) await Bun.sleep(spare);
    }
    return sent / ((performance.now() - started) / 1000);
  };

  await publishFor(warmupSeconds);
  phase = "up";
  const upRate = await publishFor(upSeconds);
  phase = "down";
  if (!control) await questdb.stop();
  const downRate = await publishFor(downSeconds);
  const lagAtRestart = await metric("platform_sink_lag_records", "timeseries-readings");
  phase = "after";
  const restarted = performance.now();
  await questdb.start();
  const catchUpDeadline = Date.now() + 120_000;
  let lag = lagAtRestart;
  while (Date.now() < catchUpDeadline) {
    lag = await metric("platform_sink_lag_records", "timeseries-readings");
    if (lag === 0) break;
    await Bun.sleep(500);
  }
  const catchUpSeconds = (performance.now() - restarted) / 1000;

  const p99Up = quantile(latencies.up, 0.99);
  const p99Down = quantile(latencies.down, 0.99);
  console.table({
    "QuestDB up": {
      "events/s": Math.round(upRate),
      matched: latencies.up.length,
      "p50 ms": quantile(latencies.up, 0.5).toFixed(1),
      "p99 ms": p99Up.toFixed(1),
    },
    [control ? "QuestDB up (control)" : "QuestDB down"]: {
      "events/s": Math.round(downRate),
      matched: latencies.down.length,
      "p50 ms": quantile(latencies.down, 0.5).toFixed(1),
      "p99 ms": p99Down.toFixed(1),
    },
  });
  console.log(
    `readings sink lag when QuestDB came back: ${lagAtRestart}; caught up (lag ${lag}) ${catchUpSeconds.toFixed(1)} s after the restart (QuestDB's own start included)`,
  );
  printFigure({
    name: `timeseries-outage: window feed p99 with QuestDB ${control ? "up (control run)" : "down"}`,
    value: Math.round(p99Down * 10) / 10,
    unit: "ms",
    baseline: "window feed p99 with QuestDB up, same run and load",
    baseline_value: Math.round(p99Up * 10) / 10,
    rate: Math.round(downRate),
    down_seconds: downSeconds,
    catch_up_seconds: Math.round(catchUpSeconds * 10) / 10,
    lag_at_restart: lagAtRestart,
    caught_up: lag === 0,
  });
  ws.close();
  await publisher.endAsync();
} finally {
  node.kill("SIGTERM");
  const code = await node.exited;
  if (code !== 0) console.error(`the cluster exited with code ${code}`);
  rmSync(dataDir, { recursive: true, force: true });
  await questdb.dispose();
}
