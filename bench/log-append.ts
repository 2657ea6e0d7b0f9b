/**
 * Embedded log append and consume throughput against raw bun:sqlite on the same bytes.
 *
 * Both sides use the same file settings (WAL, synchronous=FULL: one fsync per commit), the
 * same 100-byte values, the same (partition, offset) index and the same transaction per batch,
 * so the gap is the log's own cost:
 * partition choice (murmur2), offset bookkeeping, validation and the promise per append.
 * Consume compares a group consumer's poll() with a raw indexed SELECT of the same rows.
 * Each figure is the median of RUNS runs; every run is bounded in time.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedLog } from "../log/embedded/index.ts";
import { median } from "./support.ts";

const RUNS = 5;
const RUN_MS = 700;
const VALUE = new Uint8Array(100).fill(42);
const PARTITIONS = 12;

const dir = mkdtempSync(join(tmpdir(), "bench-log-append-"));
let fileCounter = 0;
const freshPath = () => join(dir, `run-${fileCounter++}.db`);

async function logAppend(batchSize: number): Promise<number> {
  const log = openEmbeddedLog({ path: freshPath(), maintenanceIntervalMs: 0 });
  await log.createTopic({ name: "bench", partitions: PARTITIONS });
  let written = 0;
  let key = 0;
  const started = performance.now();
  while (performance.now() - started < RUN_MS) {
    const batch = Array.from({ length: batchSize }, () => ({
      topic: "bench",
      key: `sensor_${key++ % 5000}`,
      value: VALUE,
    }));
    await log.append(batch);
    written += batchSize;
  }
  const rate = written / ((performance.now() - started) / 1000);
  await log.close();
  return rate;
}

function rawAppend(batchSize: number): number {
  const db = new Database(freshPath(), { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = FULL");
  db.run("CREATE TABLE records (partition INTEGER, offset INTEGER, key TEXT, value BLOB, timestamp INTEGER)");
  // the one index any log table needs: read by (partition, offset)
  db.run("CREATE UNIQUE INDEX records_position ON records (partition, offset)");
  const insert = db.query("INSERT INTO records VALUES (?, ?, ?, ?, ?)");
  const writeBatch = db.transaction((from: number) => {
    for (let i = 0; i < batchSize; i++)
      insert.run(
        (from + i) % PARTITIONS,
        Math.floor((from + i) / PARTITIONS),
        `sensor_${(from + i) % 5000}`,
        VALUE,
        Date.now(),
      );
  });
  let written = 0;
  const started = performance.now();
  while (performance.now() - started < RUN_MS) {
    writeBatch.immediate(written);
    written += batchSize;
  }
  const rate = written / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

async function logConsume(count: number): Promise<number> {
  const log = openEmbeddedLog({ path: freshPath(), maintenanceIntervalMs: 0 });
  await log.createTopic({ name: "bench", partitions: PARTITIONS });
  for (let from = 0; from < count; from += 1000) {
    await log.append(
      Array.from({ length: 1000 }, (_, i) => ({ topic: "bench", key: `sensor_${from + i}`, value: VALUE })),
    );
  }
  const consumer = log.consumer({ groupId: `bench-${fileCounter}`, topics: ["bench"] });
  let read = 0;
  const started = performance.now();
  while (read < count) read += (await consumer.poll({ maxRecords: 500, timeoutMs: 100 })).length;
  const rate = read / ((performance.now() - started) / 1000);
  await log.close();
  return rate;
}

function rawConsume(count: number): number {
  const db = new Database(freshPath(), { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE records (partition INTEGER, offset INTEGER, key TEXT, value BLOB, timestamp INTEGER)");
  db.run("CREATE UNIQUE INDEX records_position ON records (partition, offset)");
  const insert = db.query("INSERT INTO records VALUES (?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < count; i++)
      insert.run(i % PARTITIONS, Math.floor(i / PARTITIONS), `sensor_${i}`, VALUE, Date.now());
  })();
  const select = db.query<{ offset: number }, [number, number]>(
    "SELECT offset, key, value, timestamp FROM records WHERE partition = ? AND offset >= ? ORDER BY offset LIMIT 42",
  );
  const positions = new Array<number>(PARTITIONS).fill(0);
  let read = 0;
  const started = performance.now();
  while (read < count) {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const rows = select.all(partition, positions[partition]!);
      if (rows.length > 0) positions[partition] = rows[rows.length - 1]!.offset + 1;
      read += rows.length;
    }
  }
  const rate = read / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

interface Figure {
  name: string;
  value: number;
  baseline: string;
  baselineValue: number;
}

const figures: Figure[] = [];
try {
  for (const batchSize of [1, 500]) {
    const log: number[] = [];
    const raw: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      log.push(await logAppend(batchSize));
      raw.push(rawAppend(batchSize));
    }
    figures.push({
      name: `embedded_log_append_batch_${batchSize}`,
      value: median(log),
      baseline: `raw_bun_sqlite_insert_batch_${batchSize}`,
      baselineValue: median(raw),
    });
  }
  const consumed: number[] = [];
  const scanned: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    consumed.push(await logConsume(50_000));
    scanned.push(rawConsume(50_000));
  }
  figures.push({
    name: "embedded_log_group_consume",
    value: median(consumed),
    baseline: "raw_bun_sqlite_indexed_select",
    baselineValue: median(scanned),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(12);
console.log(
  `embedded log, ${VALUE.byteLength}-byte values, ${PARTITIONS} partitions, WAL + synchronous=FULL, median of ${RUNS}`,
);
console.log(
  `${"figure".padEnd(34)}${"records/s".padStart(12)}  ${"baseline".padEnd(38)}${"records/s".padStart(12)}  ratio`,
);
for (const figure of figures) {
  const ratio = (figure.value / figure.baselineValue).toFixed(2);
  console.log(
    `${figure.name.padEnd(34)}${fmt(figure.value)}  ${figure.baseline.padEnd(38)}${fmt(figure.baselineValue)}  ${ratio}`,
  );
}
for (const figure of figures) {
  console.log(
    JSON.stringify({
      name: figure.name,
      value: Math.round(figure.value),
      unit: "records/s",
      baseline: figure.baseline,
      baseline_value: Math.round(figure.baselineValue),
    }),
  );
}
