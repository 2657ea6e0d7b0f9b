/**
 * The QuestDB sink's throughput against the bare `@questdb/nodejs-client` sender on the same rows.
 *
 * Table: 6 columns (ts, sensor_id SYMBOL, type SYMBOL, value DOUBLE, count LONG, quality DOUBLE),
 * WAL, day partitions, DEDUP UPSERT KEYS(ts, sensor_id), a fresh table per run on the QuestDB at
 * QUESTDB_URL (default the one `bun run infra:up questdb` starts). Three figures, each the median
 * of RUNS runs, rows/s until QuestDB acknowledged the last batch:
 * - baseline: the bare sender, rows built straight from arrays, one flush (HTTP request) per
 *   BATCH rows;
 * - store: the same rows through `QuestDbTimeSeriesStore.write` in batches of BATCH (type checks
 *   per value, then the same sender calls);
 * - sink: the whole table sink: records pre-appended to an embedded log topic as JSON, polled by
 *   the sink's consumer group, decoded, mapped to rows, written in batches of BATCH, offsets
 *   committed after each acknowledged batch.
 * Targets: sink >= 500k rows/s and >= 80 % of the baseline.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sender } from "@questdb/nodejs-client";
import { QuestDbTimeSeriesStore } from "../lake/timeseries/questdb/questdb-time-series-store.ts";
import type { TableDefinition, TimeSeriesRow } from "../lake/timeseries/time-series-store.ts";
import { openEmbeddedLog } from "../log/embedded/index.ts";
import { TableSink } from "../sinks/table-sink.ts";
import { questdbHttpUrl, requireQuestDb } from "../testkit/questdb-server.ts";
import { median, printFigure } from "./support.ts";

const ROWS = Number(process.argv[2] ?? 500_000);
const BATCH = 50_000;
const RUNS = 3;
const SENSORS = 5000;
const T0 = Date.UTC(2026, 0, 1);

await requireQuestDb();
const http = new URL(questdbHttpUrl);

const sensorIds = Array.from({ length: SENSORS }, (_, i) => `sensor_${i}`);
const types = ["traffic", "environment", "utility"] as const;
const rows: TimeSeriesRow[] = Array.from({ length: ROWS }, (_, i) => ({
  ts: T0 + Math.floor(i / SENSORS) * 1000,
  sensor_id: sensorIds[i % SENSORS]!,
  type: types[i % 3]!,
  value: (i % 1000) / 7,
  count: i % 500,
  quality: (i % 100) / 100,
}));

const definition = (name: string): TableDefinition => ({
  name,
  timestamp: "ts",
  columns: [
    { name: "sensor_id", type: "symbol" },
    { name: "type", type: "symbol" },
    { name: "value", type: "double" },
    { name: "count", type: "long" },
    { name: "quality", type: "double" },
  ],
  dedupKeys: ["sensor_id"],
});

const store = new QuestDbTimeSeriesStore({ httpUrl: questdbHttpUrl, requestTimeoutMs: 60_000 });
let tableSeq = 0;
async function freshTable(kind: string): Promise<TableDefinition> {
  const table = definition(`bench_ts_${kind}_${Date.now().toString(36)}_${tableSeq++}`);
  await store.ensureTable(table);
  return table;
}

async function bareSender(): Promise<number> {
  const table = await freshTable("bare");
  const sender = await Sender.fromConfig(
    `http::addr=${http.hostname}:${http.port || 9000};auto_flush=off;stdlib_http=on;request_timeout=60000`,
  );
  const started = performance.now();
  for (let i = 0; i < ROWS; i++) {
    const row = rows[i]!;
    await sender
      .table(table.name)
      .symbol("sensor_id", row.sensor_id as string)
      .symbol("type", row.type as string)
      .floatColumn("value", row.value as number)
      .intColumn("count", row.count as number)
      .floatColumn("quality", row.quality as number)
      .at(row.ts as number, "ms");
    if ((i + 1) % BATCH === 0) await sender.flush();
  }
  await sender.flush();
  const rate = ROWS / ((performance.now() - started) / 1000);
  await sender.close();
  await store.dropTable(table.name);
  return rate;
}

async function storeWrite(): Promise<number> {
  const table = await freshTable("store");
  const started = performance.now();
  for (let i = 0; i < ROWS; i += BATCH) await store.write(table, rows.slice(i, i + BATCH));
  const rate = ROWS / ((performance.now() - started) / 1000);
  await store.dropTable(table.name);
  return rate;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function wholeSink(): Promise<number> {
  const table = await freshTable("sink");
  const dir = mkdtempSync(join(tmpdir(), "bench-ts-sink-"));
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0, synchronous: "NORMAL" });
  await log.createTopic({ name: "bench.readings", partitions: 4 });
  for (let i = 0; i < ROWS; i += BATCH)
    await log.append(
      rows.slice(i, i + BATCH).map((row) => ({
        topic: "bench.readings",
        key: row.sensor_id as string,
        value: encoder.encode(JSON.stringify(row)),
      })),
    );
  let written = 0;
  const done = Promise.withResolvers<void>();
  const sink = new TableSink<TimeSeriesRow>({
    name: "bench",
    applicationId: "bench",
    log,
    topics: ["bench.readings"],
    decode: (bytes) => JSON.parse(decoder.decode(bytes)),
    toRows: (value) => [value as TimeSeriesRow],
    target: {
      async write(batch) {
        await store.write(table, batch.rows);
        written += batch.rows.length;
        if (written >= ROWS) done.resolve();
      },
    },
    batchSize: BATCH,
    lingerMs: 50,
    onDeadLetter: (letter) => done.reject(new Error(`dead letter: ${letter.reason}`)),
    onError: (error) => done.reject(error),
  });
  const started = performance.now();
  sink.start();
  await done.promise;
  const rate = ROWS / ((performance.now() - started) / 1000);
  await sink.stop();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  await store.dropTable(table.name);
  return rate;
}

const results = { bare: [] as number[], store: [] as number[], sink: [] as number[] };
for (let run = 0; run < RUNS; run++) {
  results.bare.push(await bareSender());
  results.store.push(await storeWrite());
  results.sink.push(await wholeSink());
  console.log(
    `run ${run + 1}: bare ${Math.round(results.bare.at(-1)!)} rows/s, store ${Math.round(results.store.at(-1)!)} rows/s, sink ${Math.round(results.sink.at(-1)!)} rows/s`,
  );
}
await store.close();
const bare = median(results.bare);
for (const [name, values] of [
  ["timeseries-sink: whole table sink (embedded log -> QuestDB, DEDUP on)", results.sink],
  ["timeseries-sink: QuestDbTimeSeriesStore.write", results.store],
] as const)
  printFigure({
    name,
    value: Math.round(median(values)),
    unit: "rows/s",
    baseline: "bare @questdb/nodejs-client sender, same rows and batches",
    baseline_value: Math.round(bare),
    ratio: Math.round((median(values) / bare) * 100) / 100,
    rows: ROWS,
  });
