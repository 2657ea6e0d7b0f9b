import { readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { totalmem } from "node:os";
import type { Log } from "../../log/log.ts";
import type { MetricSample } from "../../messages/alert.ts";
import type { Prediction } from "../../messages/prediction.ts";
import { Topics } from "../../messages/topics.ts";

/**
 * The node's health as metric samples for the alert rules, every `everyMs`: what Prometheus'
 * node and process exporters and kafka-consumer-group lag would give an Alertmanager setup.
 *
 * system: worker crashes in the last 5 minutes, actor restarts in the last minute, the
 *   application's consumer lag on the input topic, process memory against its limit (the
 *   cgroup's, else the machine's), free disk of DATA_DIR, and the log sink stalled (input
 *   consumed, committed offsets not moving: outputs are not becoming durable);
 * data: per source (sensor type), readings per second against the usual rate (a slow moving
 *   average) and seconds since its last reading;
 * model: p99 prediction latency per model since the last look.
 * Every sample carries `node`, so inhibition can tell one node's symptoms from another's.
 */
export interface AlertSignalsDeps {
  readonly node: string;
  readonly log: Log;
  readonly applicationId: string;
  readonly partitions: number;
  readonly dataDir: string;
  /** the node's recent predictions, newest first (the read model) */
  readonly view: { recentPredictions(limit: number): readonly Prediction[] };
  /** records the dispatcher consumed so far */
  readonly consumed: () => number;
  readonly sample: (sample: MetricSample) => void;
  readonly onError: (error: unknown) => void;
  readonly everyMs?: number;
  /** worker crashes count this long (Prometheus: increase(restarts[5m])); default 5 min */
  readonly crashWindowMs?: number;
  readonly now?: () => number;
}

export interface AlertSignals {
  /** a sample on its way to the rules: readings are counted per source here */
  observe(sample: MetricSample): void;
  /** a supervision or worker-pool event (crashes, restarts) */
  event(event: unknown): void;
  /** one look now (also done every `everyMs`) */
  look(): Promise<void>;
  stop(): void;
}

const CRASH_WINDOW_MS = 5 * 60_000;
const RESTART_WINDOW_MS = 60_000;
/** the usual rate forgets with this half-life: a drop stays visible for about as long */
const USUAL_RATE_HALF_LIFE_MS = 30 * 60_000;
/** below this usual rate (readings/s) a source is too quiet to call a drop */
const MIN_USUAL_RATE = 0.2;
/** looks before a source's usual rate is trusted */
const WARM_UP_LOOKS = 10;
/** events remembered at most per window (a crash loop cannot grow them without bound) */
const MAX_EVENTS = 10_000;

export function startAlertSignals(deps: AlertSignalsDeps): AlertSignals {
  const everyMs = deps.everyMs ?? 2000;
  const now = deps.now ?? Date.now;
  const crashes: number[] = [];
  const restarts: number[] = [];
  const sources = new Map<
    string,
    { count: number; lastCount: number; lastSeenAt: number; usual: number; looks: number }
  >();
  const memoryLimit = cgroupMemoryLimit() ?? totalmem();
  let lastLookAt = now();
  let committedSeen = -1;
  let committedMovedAt = now();
  let looking = false;

  const emit = (metric: string, value: number, labels: Record<string, string> = {}) =>
    deps.sample({ metric, value, labels: { node: deps.node, ...labels }, at: now() });
  const remember = (list: number[], at: number) => {
    list.push(at);
    if (list.length > MAX_EVENTS) list.splice(0, list.length - MAX_EVENTS);
  };
  const within = (list: number[], windowMs: number, at: number) => {
    while (list.length > 0 && (list[0] ?? 0) <= at - windowMs) list.shift();
    return list.length;
  };

  async function lagAndSink(at: number) {
    const committed = await deps.log.groupOffsets(deps.applicationId, Topics.sensorsRaw);
    let end = 0;
    for (let partition = 0; partition < deps.partitions; partition++)
      end += await deps.log.endOffset({ topic: Topics.sensorsRaw, partition });
    let done = 0;
    for (const offset of committed.values()) done += offset;
    const lag = Math.max(0, end - done);
    emit("consumer_lag_records", lag, { topic: Topics.sensorsRaw });
    if (done !== committedSeen) {
      committedSeen = done;
      committedMovedAt = at;
    }
    // stalled: there is input to commit and the node is consuming, yet nothing became durable
    const stalled = lag > 0 && deps.consumed() > 0 ? (at - committedMovedAt) / 1000 : 0;
    emit("sink_stalled_seconds", Math.round(stalled), { sink: "log" });
  }

  async function disk() {
    const stats = await statfs(deps.dataDir);
    if (stats.blocks > 0) emit("disk_free_ratio", stats.bavail / stats.blocks, { path: deps.dataDir });
  }

  function dataAndModels(at: number) {
    const elapsedMs = Math.max(1, at - lastLookAt);
    const decay = 0.5 ** (elapsedMs / USUAL_RATE_HALF_LIFE_MS);
    for (const [source, s] of sources) {
      const rate = ((s.count - s.lastCount) * 1000) / elapsedMs;
      s.lastCount = s.count;
      s.looks++;
      if (s.looks > WARM_UP_LOOKS && s.usual >= MIN_USUAL_RATE)
        emit("ingest_rate_ratio", rate / s.usual, { source });
      s.usual = s.looks === 1 ? rate : decay * s.usual + (1 - decay) * rate;
      emit("source_staleness_seconds", Math.round((at - s.lastSeenAt) / 1000), { source });
    }
    const latencies = new Map<string, number[]>();
    for (const p of deps.view.recentPredictions(1000)) {
      if (p.at <= lastLookAt) break; // newest first
      const list = latencies.get(p.model) ?? [];
      if (list.length === 0) latencies.set(p.model, list);
      list.push(p.latency_ms);
    }
    for (const [model, list] of latencies) {
      list.sort((a, b) => a - b);
      emit("prediction_latency_ms", list[Math.min(list.length - 1, Math.floor(list.length * 0.99))] ?? 0, {
        model,
      });
    }
  }

  async function look() {
    if (looking) return; // a slow log answer skips a look rather than piling them up
    looking = true;
    const at = now();
    try {
      emit("worker_crashes", within(crashes, deps.crashWindowMs ?? CRASH_WINDOW_MS, at));
      emit("actor_restarts_per_minute", within(restarts, RESTART_WINDOW_MS, at));
      emit("memory_used_ratio", process.memoryUsage.rss() / memoryLimit);
      dataAndModels(at);
      lastLookAt = at;
      await disk();
      await lagAndSink(at);
    } finally {
      looking = false;
    }
  }

  const timer = setInterval(() => {
    look().catch(deps.onError);
  }, everyMs);
  return {
    observe(sample) {
      if (sample.metric !== "quality_score") return;
      const source = sample.labels.sensor_type;
      if (source === undefined) return;
      let s = sources.get(source);
      if (!s) {
        // sources are the sensor types: a small closed set, not one entry per sensor
        s = { count: 0, lastCount: 0, lastSeenAt: 0, usual: 0, looks: 0 };
        sources.set(source, s);
      }
      s.count++;
      s.lastSeenAt = now();
    },
    event(event) {
      const e = event as { type?: string; decision?: string };
      if (e.type === "worker-restarted") remember(crashes, now());
      else if (e.type === "supervision" && e.decision === "restart") remember(restarts, now());
    },
    look,
    stop: () => clearInterval(timer),
  };
}

/** cgroup v2's memory.max, when the node runs under a limit */
function cgroupMemoryLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync("/sys/fs/cgroup/memory.max", "utf8").trim();
  } catch (error) {
    // no cgroup v2 here: the machine's memory is the limit
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES") return undefined;
    throw error;
  }
  const limit = Number(text);
  return Number.isFinite(limit) && limit > 0 ? limit : undefined;
}
