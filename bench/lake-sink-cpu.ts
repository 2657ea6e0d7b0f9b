/**
 * The node's lake sinks on the main thread: CPU of that thread per 1,000 records for the silver
 * and bronze tables, split into the row building (`LakeTable.toRows`, what the sink does per
 * record) and the append (`DeltaTable.append`: staging, DuckDB's COPY callbacks, the commit).
 * The thread's own CPU clock (`CLOCK_THREAD_CPUTIME_ID`) leaves out DuckDB's worker threads,
 * which do not hold the event loop; the whole process's CPU is printed beside it.
 *
 * Records as the node hands them to the sinks: processed readings (decoded values) of 3,000
 * sensors for silver, framed raw readings in the platform's canonical JSON for bronze, in
 * batches of BATCH records (the lake sink's batch at ~10k/s with its 5 s linger is 20,000).
 * Each run appends BATCHES timed batches to fresh tables after one untimed batch; RUNS runs.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeltaTable } from "../lake/delta/delta-table.ts";
import { BRONZE_TABLES } from "../lake/tables/bronze.ts";
import type { LakeTable } from "../lake/tables/lake-table.ts";
import { SILVER_TABLES } from "../lake/tables/silver.ts";
import type { LogRecord } from "../log/log.ts";
import type { ProcessedReading } from "../messages/processed-reading.ts";
import { HEADER_BYTES, MAGIC_BYTE } from "../messages/schema-registry/wire-format.ts";
import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import { median, printFigure } from "./support.ts";

const BATCH = Number(process.env.LAKE_BENCH_BATCH ?? 10_000);
const BATCHES = Number(process.env.LAKE_BENCH_BATCHES ?? 4);
const RUNS = Number(process.env.LAKE_BENCH_RUNS ?? 3);
const SENSORS = 3_000;

const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});
const CLOCK_THREAD_CPUTIME_ID = process.platform === "darwin" ? 16 : 3;
const timespec = new BigInt64Array(2);

/** this thread's CPU time in ms */
function threadCpuMs(): number {
  libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ptr(timespec));
  return Number(timespec[0]) * 1000 + Number(timespec[1]) / 1e6;
}

function processCpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

const start = Date.UTC(2026, 11, 2);

function processed(k: number): ProcessedReading {
  const sensor = k % SENSORS;
  const type = SENSOR_TYPES[sensor % 3] as ProcessedReading["type"];
  const values: Record<string, number> =
    type === "traffic"
      ? { vehicle_count: k % 500, avg_speed: (k % 1200) / 10 }
      : type === "environment"
        ? { temperature: (k % 400) / 10, humidity: k % 100, air_quality_index: k % 300 }
        : { consumption: k % 9000, voltage: 230 + (k % 10), current: (k % 400) / 4 };
  return {
    sensor_id: `${type}-${sensor}`,
    type,
    event_time: start + k * 3,
    values,
    passed: true,
    quality_score: 1,
    issues: [],
    anomaly_score: (k % 1000) / 1000,
    history: 10,
    enrichment: { district: `d${sensor % 12}`, zone: `z${sensor % 40}` },
    partition: sensor % 12,
    offset: Math.floor(k / 12),
  };
}

const encoder = new TextEncoder();

function rawBytes(k: number): Uint8Array {
  const r = processed(k);
  // the platform's own bytes for a reading: the schema's key order, as the edge writes them
  const json = JSON.stringify({
    type: r.type,
    sensor_id: r.sensor_id,
    timestamp: new Date(r.event_time).toISOString(),
    ...r.values,
    ...(r.type === "traffic" ? { location: { lat: 52.52, lon: 13.405 } } : {}),
  });
  const body = encoder.encode(json);
  const bytes = new Uint8Array(HEADER_BYTES + body.length);
  bytes[0] = MAGIC_BYTE;
  new DataView(bytes.buffer).setInt32(1, 1);
  bytes.set(body, HEADER_BYTES);
  return bytes;
}

function record(topic: string, k: number, value: Uint8Array): LogRecord {
  const sensor = k % SENSORS;
  return {
    topic,
    partition: sensor % 12,
    offset: Math.floor(k / 12),
    key: `s-${sensor}`,
    value,
    headers: [],
    timestamp: start + k * 3,
  } as unknown as LogRecord;
}

interface Side {
  table: LakeTable;
  values: unknown[];
  records: LogRecord[];
}

const total = BATCH * (BATCHES + 1);
const silver = SILVER_TABLES[0] as LakeTable;
const bronze = BRONZE_TABLES[0] as LakeTable;
const sides: Side[] = [
  {
    table: silver,
    values: Array.from({ length: total }, (_, k) => Object.freeze(processed(k))),
    records: Array.from({ length: total }, (_, k) =>
      record(silver.topics[0] as string, k, new Uint8Array(0)),
    ),
  },
  {
    table: bronze,
    values: Array.from({ length: total }, (_, k) => rawBytes(k)),
    records: [],
  },
];
(sides[1] as Side).records = (sides[1] as Side).values.map((v, k) =>
  record(bronze.topics[0] as string, k, v as Uint8Array),
);

interface RunResult {
  rowsMs: number;
  appendMs: number;
  processMs: number;
}

async function run(dir: string, side: Side): Promise<RunResult> {
  const table = await DeltaTable.create(dir, {
    name: side.table.name,
    schema: [...side.table.schema],
    partitionColumns: [...side.table.partitionColumns],
  });
  const toRows = side.table.toRows as NonNullable<LakeTable["toRows"]>;
  let rowsMs = 0;
  let appendMs = 0;
  let processMs = 0;
  for (let batch = 0; batch <= BATCHES; batch++) {
    const process0 = processCpuMs();
    const t0 = threadCpuMs();
    const rows: Record<string, unknown>[] = [];
    for (let k = batch * BATCH; k < (batch + 1) * BATCH; k++)
      for (const row of toRows(side.values[k], side.records[k] as LogRecord)) rows.push(row);
    const t1 = threadCpuMs();
    await table.append(rows, { txn: { appId: "bench", version: batch } });
    const t2 = threadCpuMs();
    if (batch === 0) continue;
    rowsMs += t1 - t0;
    appendMs += t2 - t1;
    processMs += processCpuMs() - process0;
  }
  const per1000 = 1000 / (BATCH * BATCHES);
  return { rowsMs: rowsMs * per1000, appendMs: appendMs * per1000, processMs: processMs * per1000 };
}

const root = await mkdtemp(join(tmpdir(), "lake-sink-cpu-"));
const results = new Map<string, RunResult[]>();
try {
  for (const side of sides) await run(join(root, `warm-${side.table.name}`), side);
  for (let r = 0; r < RUNS; r++) {
    for (const side of sides) {
      const result = await run(join(root, `${side.table.name}-${r}`), side);
      results.set(side.table.name, [...(results.get(side.table.name) ?? []), result]);
      console.error(
        `${side.table.name} run ${r}: rows ${result.rowsMs.toFixed(2)} ms, append ${result.appendMs.toFixed(2)} ms main thread, process ${result.processMs.toFixed(2)} ms per 1,000`,
      );
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
for (const [name, runs] of results) {
  const rows = median(runs.map((r) => r.rowsMs));
  const append = median(runs.map((r) => r.appendMs));
  printFigure({
    name: `lake sink ${name}: main-thread CPU per 1,000 records (rows + append)`,
    value: Number((rows + append).toFixed(2)),
    unit: "ms",
    baseline: "none (before/after of the same bench)",
    baseline_value: Number.NaN,
    rows_ms: Number(rows.toFixed(2)),
    append_ms: Number(append.toFixed(2)),
    process_ms: Number(median(runs.map((r) => r.processMs)).toFixed(2)),
    batch: BATCH,
    load: Number((await import("node:os")).loadavg()[0]?.toFixed(1)),
  });
}
