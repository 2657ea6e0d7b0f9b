import type { Log, ProducerRecord } from "../../log/log.ts";
import type { ChildRun } from "./child-run.ts";
import { defaultSpec, generateReadings } from "./traffic-data.ts";
import { OutputLatency } from "./window-outputs.ts";

/**
 * The latency half of a side's run: the side starts on an empty input topic; once it owns its
 * partitions, readings are produced at a steady `rate` for `seconds` with event time = wall
 * clock, and a consumer of the side's output topic times each reading to the first window update
 * that covers it (OutputLatency). The first `warmupSeconds` of readings are not timed: both
 * sides get the same warm-up (JIT, first fetch sessions) and the figure is steady state. Throughput runs start from a full topic, where "latency" would
 * only measure the backlog, hence this separate, paced phase.
 */
export interface LatencyPhaseOptions {
  readonly log: Log;
  readonly input: string;
  readonly output: string;
  readonly rate: number;
  /** timed seconds, after `warmupSeconds` of the same load whose readings are not timed */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** starts the side; it must exit after `records` input records */
  readonly start: (records: number) => ChildRun;
}

export interface LatencyFigures {
  readonly readings: number;
  readonly covered: number;
  readonly timed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const TICK_MS = 10;
const encoder = new TextEncoder();

export async function runLatencyPhase(options: LatencyPhaseOptions): Promise<LatencyFigures> {
  const { log, input, output, rate } = options;
  const seconds = options.seconds + options.warmupSeconds;
  const records = Math.round(rate * seconds);
  const side = options.start(records);
  await side.ready;
  await Bun.sleep(500); // let every stream thread / fetch loop settle on its partitions
  const latency = new OutputLatency();
  const follower = log.consumer({
    groupId: `peer-latency-${output}`,
    topics: [output],
    startFrom: "earliest",
  });
  const state = { producing: true, stopped: false };
  const following = latency.follow(follower, state, Date.now() + (seconds + 60) * 1_000);
  try {
    const spec = defaultSpec(records, { seed: 7 });
    const readings = generateReadings(spec, () => Date.now())[Symbol.iterator]();
    const perTick = (rate * TICK_MS) / 1_000;
    const appends: Promise<unknown>[] = [];
    const began = performance.now();
    latency.measureFrom = Date.now() + options.warmupSeconds * 1_000;
    let sent = 0;
    for (let tick = 1; sent < records; tick++) {
      const due = Math.min(records, Math.round(tick * perTick));
      const batch: ProducerRecord[] = [];
      for (; sent < due; sent++) {
        const reading = readings.next().value;
        if (reading === undefined) break;
        const producedAt = Date.now();
        latency.onProduced({ reading, producedAt });
        batch.push({
          topic: input,
          key: reading.key,
          value: encoder.encode(reading.value),
          timestamp: producedAt,
        });
      }
      if (batch.length > 0) appends.push(log.append(batch));
      const wait = began + tick * TICK_MS - performance.now();
      if (wait > 0) await Bun.sleep(wait);
    }
    await Promise.all(appends);
    state.producing = false;
    await side.result;
    await following;
  } finally {
    state.stopped = true;
    // a failure above is the one to report; the follower's own ending is only waited for
    await following.catch((error: unknown) => console.warn(`latency follower of ${output}:`, error));
    await follower.close();
  }
  return latency.summary();
}
