/**
 * Failover restore at the store level (issue 3, item 6): the state of 1M window keys sits in a
 * changelog of 12 partitions; a node that takes over after a kill -9 opens a fresh log client,
 * opens the store (topic check = the assignment step) and restores every partition. The figure
 * is the time until all 12 partitions hold their state again; the target is <= 5 s for 1M keys.
 *
 * Variants, all over the same changelog bytes, each from a fresh client:
 * - store, 1 at a time: the node's setting (engine/actor-state.ts, restoreConcurrency 1),
 *   entries into a Map per partition as the node holds them; the headline figure. Also the time
 *   until the FIRST partition is back: the node resumes each partition as its own restore ends,
 *   so a moved key is processed again once ITS partition is back;
 * - store, 4 at a time (ChangelogStore's default) and store, 12 at once: other concurrency;
 * - naive: read every record (reads of the store's size), JSON.parse every value (also the
 *   ones a later record replaces), Map.set, partition after partition: what a straightforward
 *   restore does;
 * - raw read: log.read of every record (reads of the store's size), no decoding, no map: the floor.
 * The changelog holds each key once plus an update of every 4th key (20% overwritten records),
 * as an uncompacted changelog does. Medians of RUNS rounds, each round every variant once.
 *
 * Env: FAILOVER_KEYS (default 1,000,000, both logs), FAILOVER_KAFKA_KEYS (default
 * FAILOVER_KEYS; writing 1M keys through the idempotent producer takes ~13 s, the whole Kafka
 * part ~70 s at load ~4), KAFKA_BROKERS (default 127.0.0.1:9092), SKIP_KAFKA=1 /
 * SKIP_EMBEDDED=1 to leave one out, FAILOVER_READ_RECORDS (records per read, default the store's).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChangelogStore, DEFAULT_RESTORE_BATCH_RECORDS } from "../log/changelog/changelog-store.ts";
import type { RestoredPartition } from "../log/changelog/state-store.ts";
import { openEmbeddedLog } from "../log/embedded/index.ts";
import { openKafkaLog, parseBrokers } from "../log/kafka/index.ts";
import type { Log } from "../log/log.ts";
import { partitionFor } from "../messages/murmur2.ts";
import { BenchTopics } from "./peers/topic-admin.ts";
import { median, printFigure } from "./support.ts";

const KEYS = Number(process.env.FAILOVER_KEYS ?? 1_000_000);
const KAFKA_KEYS = Number(process.env.FAILOVER_KAFKA_KEYS ?? KEYS);
/** records per read, every variant alike (FAILOVER_READ_RECORDS=20000: the default before 2026-12-01 21:33) */
const READ_RECORDS = Number(process.env.FAILOVER_READ_RECORDS ?? DEFAULT_RESTORE_BATCH_RECORDS);
/** engine/actor-state.ts restores one partition at a time */
const NODE_CONCURRENCY = 1;
const PARTITIONS = 12;
const RUNS = Number(process.env.FAILOVER_RUNS ?? 3);
const SENSORS = 20_000;
const FLUSH_EVERY = 50_000;
const KIND = "window";
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "127.0.0.1:9092");
const decoder = new TextDecoder();

interface Backend {
  readonly name: string;
  readonly keys: number;
  /** a new client, as the node taking over has */
  connect(): Promise<Log>;
  cleanup(): Promise<void>;
}

interface Timing {
  readonly allMs: number;
  readonly firstMs: number;
  readonly keys: number;
  readonly records: number;
}

/** a window operator snapshot entry (stream/window/window-snapshot.ts), ~150 bytes as JSON */
function windowEntry(i: number, version: number) {
  const sensor = `traffic_${i % SENSORS}`;
  const start = 1_760_000_000_000 + Math.floor(i / SENSORS) * 60_000;
  const speed = 30 + (i % 70) + version;
  return {
    sensor,
    key: `${sensor}@${start}`,
    entry: {
      key: sensor,
      start,
      end: start + 60_000,
      seq: i,
      state: {
        count: 12 + version,
        moments: [[speed, 41.5, speed * 12, speed - 9, speed + 11]],
        objects: [],
      },
    },
  };
}

async function writeChangelog(
  log: Log,
  applicationId: string,
  keys: number,
): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const store = await ChangelogStore.open({ log, applicationId, kind: KIND, partitions: PARTITIONS });
  const put = (i: number, version: number) => {
    const { sensor, key, entry } = windowEntry(i, version);
    store.put(partitionFor(sensor, PARTITIONS), key, entry);
  };
  for (let i = 0; i < keys; i++) {
    put(i, 0);
    if ((i + 1) % FLUSH_EVERY === 0) await store.flush();
  }
  await store.flush();
  // a later state for every 4th key: the changelog is not compacted yet
  for (let i = 0; i < keys; i += 4) put(i, 1);
  await store.flush();
  return { ms: performance.now() - started, bytes: store.stats().bytesWritten };
}

async function storeRestore(backend: Backend, applicationId: string, concurrency: number): Promise<Timing> {
  const started = performance.now();
  const log = await backend.connect();
  try {
    const store = await ChangelogStore.open({
      log,
      applicationId,
      kind: KIND,
      partitions: PARTITIONS,
      restoreConcurrency: concurrency,
      restoreBatchRecords: READ_RECORDS,
    });
    let firstMs = Number.POSITIVE_INFINITY;
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    // each partition's states map is what the node hands to its actors as the partition resumes
    const restored: RestoredPartition[] = await Promise.all(
      partitions.map(async (p) => {
        const done = await store.restorePartition(p);
        firstMs = Math.min(firstMs, performance.now() - started);
        return done;
      }),
    );
    const allMs = performance.now() - started;
    const keys = restored.reduce((sum, r) => sum + r.keys, 0);
    const records = restored.reduce((sum, r) => sum + r.records, 0);
    return { allMs, firstMs, keys, records };
  } finally {
    await log.close();
  }
}

/** every record decoded, partition after partition */
async function naiveRestore(backend: Backend, applicationId: string): Promise<Timing> {
  const started = performance.now();
  const log = await backend.connect();
  const topic = `${applicationId}.${KIND}.changelog`;
  let firstMs = Number.POSITIVE_INFINITY;
  let records = 0;
  let keys = 0;
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const states = new Map<string, unknown>();
      const end = await log.endOffset({ topic, partition });
      for (let offset = 0; offset < end; ) {
        const batch = await log.read({ topic, partition }, { fromOffset: offset, maxRecords: READ_RECORDS });
        if (batch.length === 0) break;
        for (const record of batch) {
          records++;
          if (record.value === null) states.delete(record.key!);
          else states.set(record.key!, JSON.parse(decoder.decode(record.value)));
        }
        offset = batch[batch.length - 1]!.offset + 1;
      }
      keys += states.size;
      firstMs = Math.min(firstMs, performance.now() - started);
    }
    return { allMs: performance.now() - started, firstMs, keys, records };
  } finally {
    await log.close();
  }
}

/** the floor: every record read, nothing decoded or kept; all partitions at once */
async function rawRead(backend: Backend, applicationId: string): Promise<Timing> {
  const started = performance.now();
  const log = await backend.connect();
  const topic = `${applicationId}.${KIND}.changelog`;
  let firstMs = Number.POSITIVE_INFINITY;
  let records = 0;
  try {
    await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, partition) => {
        const end = await log.endOffset({ topic, partition });
        for (let offset = 0; offset < end; ) {
          const batch = await log.read(
            { topic, partition },
            { fromOffset: offset, maxRecords: READ_RECORDS },
          );
          if (batch.length === 0) break;
          records += batch.length;
          offset = batch[batch.length - 1]!.offset + 1;
        }
        firstMs = Math.min(firstMs, performance.now() - started);
      }),
    );
    return { allMs: performance.now() - started, firstMs, keys: 0, records };
  } finally {
    await log.close();
  }
}

interface Row {
  readonly backend: string;
  readonly variant: string;
  readonly allMs: number;
  readonly firstMs: number;
  readonly keys: number;
  readonly records: number;
}

async function measure(backend: Backend, rows: Row[]): Promise<void> {
  const applicationId = `bench-failover-${Date.now().toString(36)}`;
  const seed = await backend.connect();
  const written = await writeChangelog(seed, applicationId, backend.keys);
  await seed.close();
  console.log(
    `${backend.name}: wrote ${backend.keys.toLocaleString()} keys (${(written.bytes / 1e6).toFixed(0)} MB of state) in ${(written.ms / 1000).toFixed(1)} s`,
  );
  // one unmeasured restore warms the JIT and the page cache for every variant alike
  await runAgainOnFailure(backend.name, "warm-up", () =>
    storeRestore(backend, applicationId, NODE_CONCURRENCY),
  );
  Bun.gc(true);
  const variants: [string, () => Promise<Timing>][] = [
    ["store, 1 at a time (node)", () => storeRestore(backend, applicationId, NODE_CONCURRENCY)],
    ["store, 4 at a time", () => storeRestore(backend, applicationId, 4)],
    ["store, 12 at once", () => storeRestore(backend, applicationId, 12)],
    ["naive JSON.parse every record", () => naiveRestore(backend, applicationId)],
    ["raw read (floor)", () => rawRead(backend, applicationId)],
  ];
  // rounds of every variant, not every run of one variant in a row: on a shared machine the
  // load drifts over the minutes a run takes, and a variant measured in one stretch takes it all
  const timings = new Map<string, Timing[]>(variants.map(([variant]) => [variant, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const [variant, run] of variants) {
      const timing = await runAgainOnFailure(backend.name, variant, run);
      if (variant.startsWith("store") && timing.keys !== backend.keys) {
        throw new Error(`${backend.name} ${variant} restored ${timing.keys} keys, expected ${backend.keys}`);
      }
      timings.get(variant)!.push(timing);
      console.log(
        `  round ${round + 1} ${variant.padEnd(30)} all ${timing.allMs.toFixed(0).padStart(6)} ms  first ${timing.firstMs.toFixed(0).padStart(6)} ms`,
      );
      Bun.gc(true);
    }
  }
  for (const [variant, runs] of timings) {
    const last = runs[runs.length - 1]!;
    rows.push({
      backend: backend.name,
      variant,
      allMs: median(runs.map((t) => t.allMs)),
      firstMs: median(runs.map((t) => t.firstMs)),
      keys: last.keys,
      records: last.records,
    });
  }
}

/** a shared broker under other load fails a fetch now and then; one retry, said out loud */
async function runAgainOnFailure(
  backend: string,
  variant: string,
  run: () => Promise<Timing>,
): Promise<Timing> {
  try {
    return await run();
  } catch (error) {
    console.log(`  ${backend} ${variant}: run failed (${(error as Error).message}), running it again`);
    return run();
  }
}

async function kafkaReachable(): Promise<boolean> {
  const [host, port] = brokers[0]!.split(":");
  try {
    const socket = await Bun.connect({ hostname: host!, port: Number(port), socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), "bench-failover-"));
  const path = join(dir, "log.db");
  const embedded: Backend = {
    name: "embedded",
    keys: KEYS,
    connect: async () => openEmbeddedLog({ path, maintenanceIntervalMs: 0, synchronous: "NORMAL" }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
  try {
    if (process.env.SKIP_EMBEDDED !== "1") await measure(embedded, rows);
  } finally {
    await embedded.cleanup();
  }

  let kafkaNote = "";
  if (process.env.SKIP_KAFKA === "1") kafkaNote = "skipped (SKIP_KAFKA=1)";
  else if (!(await kafkaReachable()))
    kafkaNote = `skipped: no broker at ${brokers.join(",")} (bun run infra:up kafka)`;
  else {
    const topics = new BenchTopics(brokers);
    const kafka: Backend = {
      name: "kafka",
      keys: KAFKA_KEYS,
      connect: () =>
        openKafkaLog({
          brokers,
          clientId: "bench-failover",
          partitionFetchBytes: 8 * 1024 * 1024,
          fetchBytes: 64 * 1024 * 1024,
        }),
      cleanup: () => topics.deleteAll(["bench-failover-"]),
    };
    try {
      await measure(kafka, rows);
    } catch (error) {
      kafkaNote = `failed: ${(error as Error).message}`;
    } finally {
      await kafka.cleanup();
      await topics.close();
    }
  }

  console.log("\nfailover restore: all 12 partitions back with state (median of %d runs)", RUNS);
  console.log("backend   variant                          keys      records   all (ms)  first (ms)");
  for (const row of rows) {
    console.log(
      `${row.backend.padEnd(9)} ${row.variant.padEnd(31)} ${String(row.keys).padStart(8)} ${String(row.records).padStart(10)} ${row.allMs.toFixed(0).padStart(10)} ${row.firstMs.toFixed(0).padStart(11)}`,
    );
  }
  if (kafkaNote !== "") console.log(`kafka: ${kafkaNote}`);
  console.log("target: all partitions restored in <= 5000 ms for 1M keys\n");
  for (const backend of new Set(rows.map((row) => row.backend))) {
    const of = (variant: string) => rows.find((row) => row.backend === backend && row.variant === variant)!;
    if (rows.filter((row) => row.backend === backend).length < 5) continue;
    const store = of("store, 1 at a time (node)");
    const extra = { keys: store.keys, partitions: PARTITIONS };
    printFigure({
      name: `failover_restore_${backend}_all_partitions`,
      value: Math.round(store.allMs),
      unit: "ms",
      baseline: "naive_json_parse_every_record",
      baseline_value: Math.round(of("naive JSON.parse every record").allMs),
      ...extra,
    });
    printFigure({
      name: `failover_restore_${backend}_vs_raw_read`,
      value: Math.round(store.allMs),
      unit: "ms",
      baseline: "raw_read_floor",
      baseline_value: Math.round(of("raw read (floor)").allMs),
      ...extra,
    });
    printFigure({
      name: `failover_restore_${backend}_first_partition`,
      value: Math.round(store.firstMs),
      unit: "ms",
      baseline: "store_12_at_once_first_partition",
      baseline_value: Math.round(of("store, 12 at once").firstMs),
      ...extra,
    });
    printFigure({
      name: `failover_restore_${backend}_parallel_4`,
      value: Math.round(of("store, 4 at a time").allMs),
      unit: "ms",
      baseline: "store_sequential",
      baseline_value: Math.round(store.allMs),
      ...extra,
    });
  }
}

await main();
