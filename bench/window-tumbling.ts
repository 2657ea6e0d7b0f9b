/**
 * In-process tumbling-window aggregation, 100k keys (target >= 2M events/s on one core).
 *
 * Events: 100k sensor keys drawn uniformly, event time advancing 60 ms per 1,000 events with
 * +-500 ms jitter (so about 10 events per key per 1-minute window, some out of order), two
 * measurement fields (vehicle_count, avg_speed) aggregated with count, sum, mean, min, max.
 * The operator runs with watermarks (1 s bound), final emission, Date.now as its clock and
 * rejection checks on; the baseline is the naive approach on the same events: a
 * Map<string, {count, sum, min, max}> keyed by `${key}:${windowStart}`, no watermark, nothing
 * ever closed or emitted. Each figure is the median of RUNS runs.
 */
import {
  clearWindowOutput,
  createWindowOperator,
  createWindowOutput,
  tumbling,
  type WindowAssigner,
} from "../stream/index.ts";
import { median } from "./support.ts";

export const KEYS = 100_000;
export const EVENTS = 3_000_000;
export const RUNS = 3;
const WINDOW_MS = 60_000;

export interface BenchEvents {
  readonly keys: string[];
  readonly keyIndex: Int32Array;
  readonly eventTime: Float64Array;
  readonly values: Float64Array;
}

export function makeEvents(count: number, msPerEvent = 0.06): BenchEvents {
  let seed = 2463534242;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const keys = Array.from({ length: KEYS }, (_, i) => `sensor-${i.toString().padStart(6, "0")}`);
  const keyIndex = new Int32Array(count);
  const eventTime = new Float64Array(count);
  const values = new Float64Array(count * 2);
  const start = Date.now() - count * msPerEvent - 60_000;
  for (let i = 0; i < count; i++) {
    keyIndex[i] = Math.floor(next() * KEYS);
    eventTime[i] = Math.floor(start + i * msPerEvent + (next() - 0.5) * 1_000);
    values[2 * i] = Math.floor(next() * 80);
    values[2 * i + 1] = 20 + next() * 60;
  }
  return { keys, keyIndex, eventTime, values };
}

/** A rate measured two ways: against wall time, and against this process's CPU time (the
 * machine is shared, so CPU time is the fairer "one core" figure). */
export interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

export function measure(events: number, body: () => void): Rate {
  const cpu0 = process.cpuUsage();
  const began = performance.now();
  body();
  const wallSeconds = (performance.now() - began) / 1_000;
  const cpu = process.cpuUsage(cpu0);
  return { wall: events / wallSeconds, cpu: events / ((cpu.user + cpu.system) / 1e6) };
}

/**
 * How records reach the operator: `process` with string keys, `processInterned` with ids the
 * caller interned up front, or `processBatch` with string keys in batches of BATCH (as a log
 * poll hands them over).
 */
export type OperatorInput = "strings" | "interned" | "batches";
const BATCH = 500;

/** Events per second through the window operator with `assigner`. */
export function runOperator(
  events: BenchEvents,
  assigner: WindowAssigner,
  input: OperatorInput,
): { rate: Rate; emitted: number } {
  const operator = createWindowOperator({
    assigner,
    aggregators: {
      vehicle_count: ["count", "sum", "mean", "min", "max"],
      avg_speed: ["sum", "mean", "min", "max"],
    },
    watermark: { maxOutOfOrdernessMs: 1_000 },
    emit: "final",
  });
  const out = createWindowOutput();
  const record = new Float64Array(2);
  const { keys, keyIndex, eventTime, values } = events;
  const ids = Int32Array.from(keys, (key) => operator.internKey(key));
  const n = keyIndex.length;
  let emitted = 0;
  if (input === "batches") {
    const batchKeys: string[] = [];
    const rate = measure(n, () => {
      for (let i = 0; i < n; i += BATCH) {
        const to = Math.min(i + BATCH, n);
        batchKeys.length = to - i;
        for (let j = i; j < to; j++) batchKeys[j - i] = keys[keyIndex[j]!]!;
        operator.processBatch(0, batchKeys, eventTime.subarray(i, to), values.subarray(2 * i, 2 * to), out);
        if (out.emitted.length >= 10_000) {
          emitted += out.emitted.length;
          clearWindowOutput(out);
        }
      }
    });
    operator.flush(out);
    return { rate, emitted: emitted + out.emitted.length };
  }
  const interned = input === "interned";
  const rate = measure(n, () => {
    for (let i = 0; i < n; i++) {
      record[0] = values[2 * i]!;
      record[1] = values[2 * i + 1]!;
      if (interned) operator.processInterned(0, ids[keyIndex[i]!]!, eventTime[i]!, record, out);
      else operator.process(0, keys[keyIndex[i]!]!, eventTime[i]!, record, out);
      if (out.emitted.length >= 10_000) {
        emitted += out.emitted.length;
        clearWindowOutput(out);
      }
    }
  });
  operator.flush(out);
  emitted += out.emitted.length;
  return { rate, emitted };
}

interface NaiveWindow {
  count: number;
  sumA: number;
  minA: number;
  maxA: number;
  sumB: number;
  minB: number;
  maxB: number;
}

/** The naive baseline: string-keyed Map of accumulator objects, no watermark, nothing closes. */
export function runNaive(events: BenchEvents, windowMs = WINDOW_MS): Rate {
  const windows = new Map<string, NaiveWindow>();
  const record = new Float64Array(2);
  const { keys, keyIndex, eventTime, values } = events;
  const n = keyIndex.length;
  return measure(n, () => {
    for (let i = 0; i < n; i++) {
      record[0] = values[2 * i]!;
      record[1] = values[2 * i + 1]!;
      const t = eventTime[i]!;
      const windowStart = t - (t % windowMs);
      const id = `${keys[keyIndex[i]!]}:${windowStart}`;
      let w = windows.get(id);
      if (w === undefined) {
        w = { count: 0, sumA: 0, minA: Infinity, maxA: -Infinity, sumB: 0, minB: Infinity, maxB: -Infinity };
        windows.set(id, w);
      }
      const a = record[0]!;
      const b = record[1]!;
      w.count++;
      w.sumA += a;
      if (a < w.minA) w.minA = a;
      if (a > w.maxA) w.maxA = a;
      w.sumB += b;
      if (b < w.minB) w.minB = b;
      if (b > w.maxB) w.maxB = b;
    }
  });
}

export { median };
export const millions = (rate: number): string => `${(rate / 1e6).toFixed(2)}M/s`;

export interface Row {
  readonly name: string;
  readonly figure: string;
  readonly rates: Rate[];
}

/** Prints the table (medians of wall and CPU rates) and one JSON line per figure. */
export function report(title: string, rows: Row[], baseline: Row): void {
  const wall = (row: Row) => median(row.rates.map((r) => r.wall));
  const cpu = (row: Row) => median(row.rates.map((r) => r.cpu));
  console.log(title);
  console.log(`| ${"implementation".padEnd(52)} | wall ev/s  | CPU ev/s   | runs (wall)`);
  for (const row of [...rows, baseline]) {
    const runs = row.rates.map((r) => millions(r.wall)).join(" ");
    console.log(
      `| ${row.name.padEnd(52)} | ${millions(wall(row)).padEnd(10)} | ${millions(cpu(row)).padEnd(10)} | ${runs}`,
    );
  }
  for (const row of rows) {
    for (const [suffix, pick] of [
      ["", wall],
      ["_per_cpu_second", cpu],
    ] as const) {
      console.log(
        JSON.stringify({
          name: `${row.figure}${suffix}`,
          value: Math.round(pick(row)),
          unit: "events/s",
          baseline: `${baseline.figure}${suffix}`,
          baseline_value: Math.round(pick(baseline)),
        }),
      );
    }
  }
}

if (import.meta.main) {
  const events = makeEvents(EVENTS);
  const strings: Rate[] = [];
  const batches: Rate[] = [];
  const ids: Rate[] = [];
  const naive: Rate[] = [];
  let emitted = 0;
  for (let run = 0; run < RUNS; run++) {
    const result = runOperator(events, tumbling(WINDOW_MS), "strings");
    strings.push(result.rate);
    emitted = result.emitted;
    batches.push(runOperator(events, tumbling(WINDOW_MS), "batches").rate);
    ids.push(runOperator(events, tumbling(WINDOW_MS), "interned").rate);
    naive.push(runNaive(events));
  }
  report(
    `tumbling 1-min windows, ${KEYS} keys, ${EVENTS} events, 2 fields, median of ${RUNS} (${emitted} windows emitted per run)`,
    [
      { name: "window operator, string keys", figure: "window_tumbling_100k_keys", rates: strings },
      {
        name: `window operator, string keys, batches of ${BATCH}`,
        figure: "window_tumbling_100k_keys_batches",
        rates: batches,
      },
      { name: "window operator, interned key ids", figure: "window_tumbling_100k_keys_interned", rates: ids },
    ],
    { name: "naive Map<`key:windowStart`>, no watermark", figure: "naive_map_string_key", rates: naive },
  );
  console.log("target: >= 2M events/s on one core");
}
