/**
 * Delta append: rows/s from the pipeline into a silver table in micro-batches of 10,000 rows.
 *  - ours: `DeltaTable.append` of silver-reading-shaped JS rows (as the sink receives them), one
 *    commit per batch with a txn action (the sink's exactly-once marker), partitioned by date and
 *    type, parquet through DuckDB.
 *  - baseline, same run and same rows: delta-rs `write_deltalake` appends (Python, deltalake from
 *    the infra venv), each batch a pyarrow table already in memory, same partitioning, same txn.
 * Each side writes BATCHES timed batches after one untimed warm-up batch, after one untimed
 * warm-up run; RUNS runs alternate
 * the two sides; medians are printed with the ratio (target >= 1.0), and rows per CPU-second of
 * each process (all its threads) beside it, which a machine shared with other work disturbs
 * less than wall time. Both tables are read back and their row counts checked.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeltaTable, type TableSpec } from "../lake/delta/delta-table.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { VENV_PYTHON } from "../testkit/delta-rs.ts";
import { median, printFigure } from "./support.ts";

const BATCH_ROWS = 10_000;
const BATCHES = Number(process.env.DELTA_BENCH_BATCHES ?? 20);
const RUNS = Number(process.env.DELTA_BENCH_RUNS ?? 5);
const TYPES = ["traffic", "environment", "utility"] as const;
const DISTRICTS = ["north", "south", "east", "west", "centre"];

const SPEC: TableSpec = {
  name: "silver_readings",
  partitionColumns: ["date", "type"],
  schema: [
    { name: "sensor_id", type: "string", nullable: false },
    { name: "type", type: "string", nullable: false },
    { name: "event_time", type: "timestamp", nullable: false },
    { name: "date", type: "date", nullable: false },
    { name: "value_1", type: "double", nullable: true },
    { name: "value_2", type: "double", nullable: true },
    { name: "value_3", type: "double", nullable: true },
    { name: "quality_score", type: "double", nullable: false },
    { name: "anomaly_score", type: "double", nullable: false },
    { name: "district", type: "string", nullable: true },
    { name: "zone", type: "string", nullable: true },
    { name: "partition", type: "integer", nullable: false },
    { name: "offset", type: "long", nullable: false },
  ],
};

/** Deterministic silver rows: 2,000 sensors, two days, timestamps as epoch ms (as the pipeline carries them). */
function silverRows(count: number): Record<string, number | string | null>[] {
  const start = Date.UTC(2026, 11, 1);
  return Array.from({ length: count }, (_, k) => {
    const sensor = k % 2_000;
    const type = TYPES[sensor % 3] as string;
    const eventTime = start + Math.floor((k * 86_400_000 * 2) / count);
    return {
      sensor_id: `${type}-${sensor}`,
      type,
      event_time: eventTime,
      date: new Date(eventTime).toISOString().slice(0, 10),
      value_1: ((k * 7919) % 1000) / 10,
      value_2: type === "traffic" ? null : ((k * 104729) % 5000) / 100,
      value_3: type === "utility" ? ((k * 1299709) % 2400) / 10 : null,
      quality_score: ((k * 31) % 100) / 100,
      anomaly_score: ((k * 17) % 1000) / 1000,
      district: DISTRICTS[sensor % 5] as string,
      zone: `z${sensor % 40}`,
      partition: sensor % 12,
      offset: k,
    };
  });
}

interface RunResult {
  rows: number;
  seconds: number;
  /** CPU seconds of the whole process (every thread) over the timed appends */
  cpuSeconds: number;
}

async function runOurs(dir: string, rows: Record<string, unknown>[]): Promise<RunResult> {
  const table = await DeltaTable.create(dir, SPEC);
  await table.append(rows.slice(0, BATCH_ROWS), { txn: { appId: "bench", version: 0 } });
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let batch = 1; batch * BATCH_ROWS < rows.length; batch++) {
    await table.append(rows.slice(batch * BATCH_ROWS, (batch + 1) * BATCH_ROWS), {
      txn: { appId: "bench", version: batch },
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rows: rows.length - BATCH_ROWS, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

async function runDeltaRs(dir: string, rows: Record<string, unknown>[]): Promise<RunResult> {
  const child = Bun.spawn([VENV_PYTHON, join(import.meta.dir, "../testkit/python/delta_append_bench.py")], {
    stdin: new TextEncoder().encode(
      JSON.stringify({
        path: dir,
        rows,
        batchRows: BATCH_ROWS,
        partitionBy: SPEC.partitionColumns,
        schema: SPEC.schema,
      }),
    ),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) {
    throw new PlatformError(
      ErrorCodes.BENCH_PEER_FAILED,
      `delta-rs append bench failed (${code}): ${err.trim()}`,
    );
  }
  return JSON.parse(out) as RunResult;
}

async function rowCount(dir: string): Promise<number> {
  const snapshot = await (await DeltaTable.open(dir)).snapshot();
  return snapshot.files.reduce((n, f) => n + (f.numRecords ?? 0), 0);
}

const rows = silverRows(BATCH_ROWS * (BATCHES + 1));
const root = await mkdtemp(join(tmpdir(), "delta-append-bench-"));
const ours: number[] = [];
const theirs: number[] = [];
const ourCpu: number[] = [];
const theirCpu: number[] = [];
try {
  // one untimed run of each side first: a node appends for hours, so its JIT is warm
  await runOurs(join(root, "warm-ours"), rows);
  await runDeltaRs(join(root, "warm-delta-rs"), rows);
  for (let run = 0; run < RUNS; run++) {
    const ourDir = join(root, `ours-${run}`);
    const ourRun = await runOurs(ourDir, rows);
    const theirDir = join(root, `delta-rs-${run}`);
    const theirRun = await runDeltaRs(theirDir, rows);
    const [ourCount, theirCount] = await Promise.all([rowCount(ourDir), rowCount(theirDir)]);
    if (ourCount !== rows.length || theirCount !== rows.length) {
      throw new PlatformError(
        ErrorCodes.BENCH_PEER_FAILED,
        `row counts differ: ours ${ourCount}, delta-rs ${theirCount}, expected ${rows.length}`,
      );
    }
    ours.push(ourRun.rows / ourRun.seconds);
    theirs.push(theirRun.rows / theirRun.seconds);
    ourCpu.push(ourRun.rows / ourRun.cpuSeconds);
    theirCpu.push(theirRun.rows / theirRun.cpuSeconds);
    console.log(
      `run ${run + 1}: ours ${Math.round(ours.at(-1) as number).toLocaleString("en")} rows/s (${Math.round(ourCpu.at(-1) as number).toLocaleString("en")} per CPU-second), delta-rs ${Math.round(theirs.at(-1) as number).toLocaleString("en")} rows/s (${Math.round(theirCpu.at(-1) as number).toLocaleString("en")} per CPU-second)`,
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
const value = median(ours);
const baseline = median(theirs);
const cpuRatio = median(ourCpu) / median(theirCpu);
console.log(
  `delta append, ${BATCHES} batches of ${BATCH_ROWS} rows: ours/delta-rs = ${(value / baseline).toFixed(2)} (target >= 1.0); rows per CPU-second ours/delta-rs = ${cpuRatio.toFixed(2)}`,
);
printFigure({
  name: "delta_append_rows_per_s",
  value: Math.round(value),
  unit: "rows/s",
  baseline: "delta-rs write_deltalake (pyarrow in memory)",
  baseline_value: Math.round(baseline),
  ratio: Number((value / baseline).toFixed(3)),
  cpu_ratio: Number(cpuRatio.toFixed(3)),
  batch_rows: BATCH_ROWS,
  batches: BATCHES,
});
