/**
 * The ingest's MQTT path alone: what receiving N readings costs the node's main thread, the
 * embedded broker on its own thread (the node's setup: ack chain, persistent ingest session,
 * QoS 1), with the ingest's subscriber either
 *   tcp:    on the main thread, reading the broker over TCP (mqtt.js parses every packet here),
 *           the node's path before; the baseline
 *   thread: on the broker's thread, handing the main thread one transferred buffer per batch
 *           (sources/mqtt/aedes-thread-subscriber.ts), the node's path now.
 * The consumer resolves each batch at once (no log): only the path is measured. A separate
 * process publishes the readings (QoS 1, up to 1,000 in flight), so its CPU is not counted.
 * Prints, per run, the main thread's CPU and the whole process's (both threads) per 1,000
 * readings, and the wall time; the modes alternate, medians at the end.
 *
 *   bun bench/mqtt-ingest-path.ts [--messages 200000] [--runs 3]
 */
import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { createAedesWorkerBroker } from "../sources/mqtt/aedes-worker-broker.ts";
import { createMqttSubscriber, type MqttSubscriber } from "../sources/mqtt/mqtt-subscriber.ts";
import { median, printFigure } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

if (process.argv[2] === "--publish") {
  // the load: a reading-sized JSON payload on 3,000 sensors' topics
  const [url, count] = [process.argv[3]!, Number(process.argv[4])];
  const client = await mqtt.connectAsync(url, { clientId: `bench-publisher-${process.pid}` });
  let inFlight = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (inFlight < 1000 && sent < count) {
        const i = sent++;
        inFlight++;
        const sensor = `traffic-${i % 3000}`;
        const payload = JSON.stringify({
          sensor_id: sensor,
          type: "traffic",
          timestamp: new Date(1_764_000_000_000 + i).toISOString(),
          location: { lat: 52.52, lon: 13.405 },
          vehicle_count: i % 90,
          avg_speed_kmh: 42.5,
        });
        client.publish(`city/sensors/traffic/${sensor}`, payload, { qos: 1 }, () => {
          inFlight--;
          if (sent === count && inFlight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await client.endAsync();
  process.exit(0);
}

const messages = arg("messages", 200_000);
const runs = arg("runs", 3);
const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU in 10 ms ticks on Linux

/** the main thread's CPU (its task is the process id), from /proc */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
const processCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface RunCost {
  readonly main: number;
  readonly whole: number;
  readonly wallMs: number;
}

async function run(mode: "tcp" | "thread"): Promise<RunCost> {
  const prefix = "bench-ingest";
  const broker = createAedesWorkerBroker({ ackChain: { subscriberIdPrefix: prefix } });
  await broker.start();
  let received = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const options = {
    clientId: `${prefix}-${mode}-${process.pid}`,
    cleanSession: false,
    onBatch: (batch: readonly unknown[]) => {
      received += batch.length;
      if (received >= messages) done();
    },
  };
  const subscriber: MqttSubscriber =
    mode === "tcp"
      ? createMqttSubscriber({ ...options, url: broker.url() })
      : broker.ingestSubscriber(options);
  await subscriber.start();
  const [main0, whole0, t0] = [mainThreadCpuMs(), processCpuMs(), performance.now()];
  const publisher = Bun.spawn(["bun", import.meta.path, "--publish", broker.url(), String(messages)], {
    stdout: "inherit",
    stderr: "inherit",
  });
  await all;
  const result = {
    main: ((mainThreadCpuMs() - main0) / messages) * 1000,
    whole: ((processCpuMs() - whole0) / messages) * 1000,
    wallMs: performance.now() - t0,
  };
  await publisher.exited;
  await subscriber.stop();
  await broker.stop();
  return result;
}

const results: Record<"tcp" | "thread", RunCost[]> = { tcp: [], thread: [] };
for (let i = 0; i < runs; i++) {
  for (const mode of i % 2 === 0 ? (["tcp", "thread"] as const) : (["thread", "tcp"] as const)) {
    const r = await run(mode);
    results[mode].push(r);
    console.log(
      `${mode.padEnd(6)} run ${i + 1}: main thread ${r.main.toFixed(1)} ms CPU per 1,000, whole process ${r.whole.toFixed(1)}, ${(messages / (r.wallMs / 1000) / 1000).toFixed(1)} k/s`,
    );
  }
}
const med = (mode: "tcp" | "thread", key: "main" | "whole") => median(results[mode].map((r) => r[key]));
printFigure({
  name: "mqtt-ingest-main-thread-cpu-per-1k",
  value: med("thread", "main"),
  unit: "ms",
  baseline: "tcp-subscriber-on-main",
  baseline_value: med("tcp", "main"),
  messages,
});
printFigure({
  name: "mqtt-ingest-process-cpu-per-1k",
  value: med("thread", "whole"),
  unit: "ms",
  baseline: "tcp-subscriber-on-main",
  baseline_value: med("tcp", "whole"),
  messages,
});
