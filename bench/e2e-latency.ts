/**
 * End to end: MQTT publish -> ingest -> log -> worker actors (sensor, window) -> WebSocket
 * window update, against a real `bun cluster.ts` process (embedded log and MQTT broker, two
 * workers). The load generator publishes readings at a fixed rate and remembers when it sent
 * the k-th reading of each sensor's window; a WebSocket client subscribed to `windows` matches
 * each update (sensor, window, count = k) to that send time. Baseline, same run and broker:
 * MQTT's own publish -> subscribe round trip, the floor under any MQTT pipeline.
 *
 *   bun bench/e2e-latency.ts [--rate 20000] [--seconds 15] [--sensors 3000] [--profile DIR]
 * --profile writes the node's main-thread CPU profile (markdown, `bun --cpu-prof-md`) to DIR when
 * it stops. The rooms a node runs by default (LAKE, FEATURES, MODELS, NEWS, MARKET) follow the
 * environment, so `LAKE=off bun bench/e2e-latency.ts` measures the node without its lake.
 * Target: p99 <= 10 ms at 20k events/s.
 *
 * Besides the latency it prints the node's CPU time per 1,000 readings offered while measuring
 * (its main thread and the whole process, from /proc on Linux): on a shared machine the latency
 * of an overloaded node says mostly how loaded the machine was, the CPU a reading costs does not.
 * It prints the same by thread (the main thread, the partition workers, the embedded broker's
 * thread, JSC's GC and JIT helpers: which one is saturated), and the load generator's own CPU
 * per 1,000 readings, the part of the machine the node cannot have.
 * After the node stops it prints the records the node appended per reading offered, by topic
 * (read from the embedded log's partition ends): the hot path's append cost is in that count.
 */

import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { printFigure, quantile } from "./support.ts";

if (process.argv.includes("--help")) {
  console.log(
    "bun bench/e2e-latency.ts [--rate 20000] [--seconds 15] [--sensors 3000] [--profile DIR]\n" +
      "  rooms follow the environment: LAKE=off FEATURES=off MODELS=off NEWS=off MARKET=off",
  );
  process.exit(0);
}

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rate = arg("rate", 20_000);
const seconds = arg("seconds", 15);
const sensors = arg("sensors", 3000);
const warmupSeconds = 3;
const port = 3900 + Math.floor(Math.random() * 50);
const mqttPort = 18_830 + Math.floor(Math.random() * 50);
const dataDir = mkdtempSync(join(tmpdir(), "e2e-bench-"));
const profileIndex = process.argv.indexOf("--profile");
const profileDir = profileIndex >= 0 ? process.argv[profileIndex + 1] : undefined;
const profileFlags = profileDir ? ["--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];

const node = Bun.spawn(
  [
    "bun",
    ...profileFlags,
    "cluster.ts",
    "--no-simulator",
    "--quiet",
    "--port",
    String(port),
    "--mqtt-port",
    String(mqttPort),
    "--data-dir",
    dataDir,
  ],
  { cwd: join(import.meta.dir, ".."), stdout: "pipe", stderr: "inherit" },
);

/**
 * The MQTT URL the node announces once up. The port asked for above may have been taken by
 * another broker, in which case the node binds another one: publishing to the asked port would
 * then reach someone else's broker. The node's own stdout is passed through as it comes.
 */
const announcedMqttUrl: Promise<string> = (async () => {
  const decoder = new TextDecoder();
  let pending = "";
  let url: string | undefined;
  let resolveUrl: (value: string) => void = () => {};
  const found = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  void (async () => {
    for await (const chunk of node.stdout) {
      process.stdout.write(chunk);
      if (url !== undefined) continue;
      pending += decoder.decode(chunk, { stream: true });
      const match = /^\s+MQTT\s+(mqtt:\/\/\S+)/m.exec(pending);
      if (match) {
        url = match[1]!;
        resolveUrl(url);
      } else pending = pending.slice(-4096);
    }
  })().catch((error: unknown) => console.error("reading the node's stdout failed:", error));
  return found;
})();

const STOP_GRACE_MS = 60_000;
/** readings the generator published, warm-up included: what the log's record counts divide by */
let totalSent = 0;
// the benchmark stopped from outside (Ctrl-C, a timeout) takes its node down with it
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    node.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  });
}

/** CPU seconds (user + system) of a thread or a whole process, from /proc; undefined elsewhere */
function cpuSeconds(statPath: string): number | undefined {
  if (!existsSync(statPath)) return undefined;
  // fields after the parenthesised command name; utime and stime are the 12th and 13th of them
  const fields = readFileSync(statPath, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const nodeCpu = () => ({
  main: cpuSeconds(`/proc/${node.pid}/task/${node.pid}/stat`),
  all: cpuSeconds(`/proc/${node.pid}/stat`),
  threads: threadCpu(),
});

/**
 * CPU seconds of each of the node's threads by thread id, with its name: which thread is
 * saturated (a worker's, the main thread, the embedded broker's, SQLite's checkpointer, GC helpers)
 */
function threadCpu(): Map<string, { name: string; seconds: number }> {
  const threads = new Map<string, { name: string; seconds: number }>();
  const dir = `/proc/${node.pid}/task`;
  if (!existsSync(dir)) return threads;
  for (const tid of readdirSync(dir)) {
    try {
      const seconds = cpuSeconds(`${dir}/${tid}/stat`);
      const name = readFileSync(`${dir}/${tid}/comm`, "utf8").trim();
      if (seconds !== undefined) threads.set(tid, { name, seconds });
    } catch (error) {
      // a thread that ended between the listing and the read has no CPU left to count
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return threads;
}

async function waitForHealth(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return;
    } catch {
      // not listening yet: keep waiting until the deadline
    }
    await Bun.sleep(200);
  }
  throw new Error("the cluster did not become healthy within 60 s");
}

try {
  await waitForHealth();
  const sendTimes = new Map<string, number>();
  const latencies: number[] = [];
  let measuring = false;
  /**
   * when the warm-up ended: only readings sent after it are measured (a reading sent during the
   * warm-up, while the node still spawns its actors, and answered later is not the steady state)
   */
  let measuredFrom = Number.POSITIVE_INFINITY;
  /**
   * sensor window updates received while measuring: one per reading the node took through its
   * windows in that span. A node that falls behind does less work per reading *published* (the
   * rest is still queued), so its CPU is also given per reading it answered.
   */
  let answeredInSpan = 0;
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
    if (measuring) answeredInSpan++;
    const key = `${w.key}|${w.window_start}|${w.count}`;
    const sent = sendTimes.get(key);
    if (sent === undefined) return;
    sendTimes.delete(key);
    if (measuring && sent >= measuredFrom) latencies.push(now - sent);
  };

  const mqttUrl = await Promise.race([
    announcedMqttUrl,
    Bun.sleep(10_000).then(() => {
      throw new Error("the node did not announce its MQTT URL within 10 s of being healthy");
    }),
  ]);
  const publisher = await mqtt.connectAsync(mqttUrl);
  const probe = await mqtt.connectAsync(mqttUrl);
  const floor: number[] = [];
  const probeSent = new Map<string, number>();
  await probe.subscribeAsync("bench/probe/#");
  probe.on("message", (topic) => {
    const sent = probeSent.get(topic);
    if (sent !== undefined && measuring && sent >= measuredFrom) floor.push(performance.now() - sent);
  });

  const counts = new Map<string, number>();
  const ids = Array.from({ length: sensors }, (_, i) => `traffic_b${i}`);
  let sent = 0;
  let sentMeasured = 0;
  let cpuAtStart: ReturnType<typeof nodeCpu> | undefined;
  /** the load generator's own CPU (this process: publisher, probe and WebSocket client) */
  let generatorCpuAtStart: NodeJS.CpuUsage | undefined;
  let next = 0;
  const started = performance.now();
  const perTick = Math.max(1, Math.round(rate / 100));
  while (performance.now() - started < (seconds + warmupSeconds) * 1000) {
    measuring = performance.now() - started > warmupSeconds * 1000;
    if (measuring && cpuAtStart === undefined) {
      cpuAtStart = nodeCpu();
      generatorCpuAtStart = process.cpuUsage();
      measuredFrom = performance.now();
    }
    const tickStart = performance.now();
    for (let i = 0; i < perTick; i++) {
      const id = ids[next]!;
      next = (next + 1) % ids.length;
      const now = Date.now();
      const windowStart = now - (now % 60_000);
      const countKey = `${id}|${windowStart}`;
      const k = (counts.get(countKey) ?? 0) + 1;
      counts.set(countKey, k);
      const payload = JSON.stringify({
        type: "traffic",
        sensor_id: id,
        timestamp: new Date(now).toISOString(),
        vehicle_count: 20 + (k % 30),
        avg_speed: 40 + (k % 20),
        location: { lat: 52.52, lon: 13.4 },
      });
      sendTimes.set(`${id}|${windowStart}|${k}`, performance.now());
      publisher.publish(`city/sensors/traffic/${id}`, payload, { qos: 0 });
      sent++;
      if (measuring) sentMeasured++;
    }
    if (sent % 1000 < perTick) {
      const topic = `bench/probe/${sent}`;
      probeSent.set(topic, performance.now());
      probe.publish(topic, "x", { qos: 0 });
    }
    const spare = 10 - (performance.now() - tickStart);
    if (spare > 0) await Bun.sleep(spare);
  }
  const elapsed = (performance.now() - started) / 1000;
  totalSent = sent;
  await Bun.sleep(2000);
  measuring = false;
  const cpuAtEnd = nodeCpu();
  const generatorCpu = process.cpuUsage(generatorCpuAtStart);
  // CPU ms per 1,000 readings: what the node spent while the measured readings went through it
  const cpuPerThousand = (pick: "main" | "all", readings = sentMeasured) => {
    const before = cpuAtStart?.[pick];
    const after = cpuAtEnd[pick];
    return before === undefined || after === undefined || readings === 0
      ? Number.NaN
      : ((after - before) * 1000 * 1000) / readings;
  };
  const achieved = sent / elapsed;
  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  const floorP99 = quantile(floor, 0.99);
  console.log("\nend-to-end: MQTT publish -> WebSocket window update");
  console.table({
    "cluster (sensor window update)": {
      "events/s": Math.round(achieved),
      matched: latencies.length,
      "p50 ms": p50.toFixed(2),
      "p99 ms": p99.toFixed(2),
      "max ms": quantile(latencies, 1).toFixed(2),
    },
    "baseline: MQTT publish -> subscribe": {
      "events/s": "",
      matched: floor.length,
      "p50 ms": quantile(floor, 0.5).toFixed(2),
      "p99 ms": floorP99.toFixed(2),
      "max ms": quantile(floor, 1).toFixed(2),
    },
  });
  console.log(`unmatched sends (in flight or lost at the end): ${sendTimes.size}`);
  console.log(
    `node CPU per 1,000 readings: main thread ${cpuPerThousand("main").toFixed(1)} ms, ` +
      `whole process ${cpuPerThousand("all").toFixed(1)} ms (load average ${readLoad()}); ` +
      `the load generator (this process) ${(sentMeasured === 0 ? Number.NaN : (generatorCpu.user + generatorCpu.system) / sentMeasured).toFixed(1)} ms`,
  );
  console.log(
    `per 1,000 readings answered in the span (${answeredInSpan} window updates): main thread ` +
      `${cpuPerThousand("main", answeredInSpan).toFixed(1)} ms, whole process ${cpuPerThousand("all", answeredInSpan).toFixed(1)} ms`,
  );
  printThreadCpu(cpuAtStart?.threads, cpuAtEnd.threads, sentMeasured);
  printFigure({
    name: "e2e-window-latency-p99",
    value: p99,
    unit: "ms",
    baseline: "mqtt-round-trip-p99",
    baseline_value: floorP99,
    rate: Math.round(achieved),
  });
  printFigure({
    name: "e2e-window-latency-p50",
    value: p50,
    unit: "ms",
    baseline: "mqtt-round-trip-p50",
    baseline_value: quantile(floor, 0.5),
    rate: Math.round(achieved),
  });
  printFigure({
    name: "e2e-node-main-thread-cpu-per-1k-readings",
    value: Number(cpuPerThousand("main").toFixed(2)),
    unit: "ms",
    baseline: "whole-process-cpu-per-1k-readings",
    baseline_value: Number(cpuPerThousand("all").toFixed(2)),
    rate: Math.round(achieved),
  });
  printFigure({
    name: "e2e-throughput",
    value: Math.round(achieved),
    unit: "events/s",
    baseline: "target",
    baseline_value: rate,
  });
  ws.close();
  await publisher.endAsync();
  await probe.endAsync();
} finally {
  await stopNode();
  printRecordsPerReading();
  rmSync(dataDir, { recursive: true, force: true });
}

/** records appended per reading sent, by topic, from the embedded log the node left behind */
function printRecordsPerReading(): void {
  const path = join(dataDir, "log.db");
  if (!existsSync(path) || totalSent === 0) return;
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .query<{ name: string; records: number }, []>(
        "SELECT t.name AS name, SUM(p.next_offset) AS records FROM partitions p " +
          "JOIN topics t ON t.id = p.topic_id GROUP BY t.name HAVING records > 0 ORDER BY records DESC",
      )
      .all();
    let all = 0;
    const table: Record<string, { records: number; "per reading": string }> = {};
    for (const row of rows) {
      all += row.records;
      table[row.name] = { records: row.records, "per reading": (row.records / totalSent).toFixed(3) };
    }
    console.log(`records appended per reading sent (${totalSent} sent, warm-up included):`);
    console.table(table);
    console.log(`all topics: ${(all / totalSent).toFixed(3)} records per reading`);
    // QoS 0 publishes still in flight when the node stops are never ingested (nor acknowledged):
    // "events/s" above counts publishes, this counts what reached the log
    const ingested = rows.find((row) => row.name === "city.sensors.raw")?.records ?? 0;
    console.log(
      `readings ingested: ${ingested} of ${totalSent} published (${((100 * ingested) / totalSent).toFixed(1)} %)`,
    );
    printFigure({
      name: "e2e-records-appended-per-reading",
      value: Number((all / totalSent).toFixed(3)),
      unit: "records",
      baseline: "readings",
      baseline_value: 1,
    });
  } finally {
    db.close();
  }
}

/** CPU ms per 1,000 readings of each thread that used at least 1 % of the node's, busiest first */
function printThreadCpu(
  before: ReturnType<typeof threadCpu> | undefined,
  after: ReturnType<typeof threadCpu>,
  readings: number,
): void {
  if (!before || readings === 0) return;
  const rows: { thread: string; "ms per 1,000": number; "% of a core": number }[] = [];
  const measuredSeconds = seconds + 2;
  let total = 0;
  for (const [tid, { name, seconds: end }] of after) {
    const used = end - (before.get(tid)?.seconds ?? 0);
    total += used;
    rows.push({
      thread: `${name} (${tid === String(node.pid) ? "main" : tid})`,
      "ms per 1,000": Number(((used * 1e6) / readings).toFixed(1)),
      "% of a core": Number(((100 * used) / measuredSeconds).toFixed(1)),
    });
  }
  rows.sort((a, b) => b["ms per 1,000"] - a["ms per 1,000"]);
  const totalPerThousand = (total * 1e6) / readings;
  console.log("node CPU by thread (ms per 1,000 readings; % of a core over the measured span):");
  console.table(rows.filter((row) => row["ms per 1,000"] >= totalPerThousand / 100));
}

function readLoad(): string {
  return existsSync("/proc/loadavg")
    ? readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
    : "n/a";
}

/**
 * A graceful stop drains what the node still holds; a node far behind (a run that overloaded
 * it) could take minutes, so after STOP_GRACE_MS it is killed and the run says so.
 */
async function stopNode(): Promise<void> {
  node.kill("SIGTERM");
  const stopped = await Promise.race([node.exited, Bun.sleep(STOP_GRACE_MS).then(() => undefined)]);
  if (stopped === undefined) {
    console.error(`the cluster did not stop within ${STOP_GRACE_MS} ms of SIGTERM: killed`);
    node.kill("SIGKILL");
    await node.exited;
  } else if (stopped !== 0) console.error(`the cluster exited with code ${stopped}`);
}
