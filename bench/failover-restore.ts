/**
 * Failover restore at the store level (issue 3 item 6, issue 7 §4): the state of 1M window
 * actors (one per sensor, as the node keeps them: a tumbling 1-minute window with a few readings,
 * made by the real window operator) sits in a changelog of 12 partitions; a node that takes over
 * after a kill -9 opens a fresh log client, opens its state stores and restores every partition,
 * handing each key's state on to the worker that owns it. The figure is the time until all 12
 * partitions' states are on their way to the workers; the target is <= 5 s for 1M keys.
 *
 * Two changelogs of the same states, each restored from a fresh client, in rotating rounds:
 * - bytes, passed through (the node now): the window actor's snapshot bytes
 *   (stream/window/window-snapshot-bytes.ts) restored by the node's own stores
 *   (engine/actor-state.ts: one partition at a time, the bytes undecoded) and wrapped, per key,
 *   in the actor-state record the dispatcher writes to the worker's ring;
 * - JSON, decoded on the main thread (before): the JSON the window actor wrote before, each
 *   newest state JSON.parse'd by the store and re-serialised into the JSON restore envelope the
 *   dispatcher sent before (the worker then parsed it again: bench/window-state-encoding.ts);
 * - raw read of each changelog: log.read of every record, no decoding, no map: the floors.
 * Also the time until the FIRST partition is back: the node resumes each partition as its own
 * restore ends, so a moved key is processed again once ITS partition is back.
 * Each changelog holds every key once plus an update of every 4th key (20% overwritten records),
 * as an uncompacted changelog does. Medians of RUNS rounds.
 *
 * Env: FAILOVER_KEYS (default 1,000,000, both logs), FAILOVER_KAFKA_KEYS (default
 * FAILOVER_KEYS), KAFKA_BROKERS (default 127.0.0.1:9092), SKIP_KAFKA=1 / SKIP_EMBEDDED=1 to leave
 * one out, FAILOVER_READ_RECORDS (records per read, default the store's), FAILOVER_RUNS (3).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { openActorStateStores } from "../engine/actor-state.ts";
import { ChangelogStore, DEFAULT_RESTORE_BATCH_RECORDS } from "../log/changelog/changelog-store.ts";
import { RestoreSlots } from "../log/changelog/restore-slots.ts";
import { jsonStateCodec, storedBytesCodec } from "../log/changelog/state-codec.ts";
import type { StateCodec } from "../log/changelog/state-store.ts";
import { openEmbeddedLog } from "../log/embedded/index.ts";
import { openKafkaLog, parseBrokers } from "../log/kafka/index.ts";
import type { Log } from "../log/log.ts";
import { writeHostInbound } from "../messages/codec/host-inbound-codec.ts";
import { writeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { sabRingChannel } from "../supervisor/transport/sab-ring.ts";
import { bytesStateOf, jsonStateOf, sensorWindowState } from "../testkit/window-actor-states.ts";
import { BenchTopics } from "./peers/topic-admin.ts";
import { median, printFigure } from "./support.ts";

const KEYS = Number(process.env.FAILOVER_KEYS ?? 1_000_000);
const KAFKA_KEYS = Number(process.env.FAILOVER_KAFKA_KEYS ?? KEYS);
/** records per read, every variant alike (FAILOVER_READ_RECORDS=20000: the default before 2026-12-01 21:33) */
const READ_RECORDS = Number(process.env.FAILOVER_READ_RECORDS ?? DEFAULT_RESTORE_BATCH_RECORDS);
const PARTITIONS = 12;
const RUNS = Number(process.env.FAILOVER_RUNS ?? 3);
const FLUSH_EVERY = 50_000;
const KIND = "window";
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "127.0.0.1:9092");

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

type Form = "bytes" | "json";

async function writeChangelog(
  log: Log,
  applicationId: string,
  keys: number,
  form: Form,
): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const codec: StateCodec = form === "bytes" ? storedBytesCodec : jsonStateCodec;
  const store = await ChangelogStore.open({ log, applicationId, kind: KIND, partitions: PARTITIONS, codec });
  const put = (i: number, version: number) => {
    const state = sensorWindowState(i, PARTITIONS, 3 + version, version);
    store.put(state.partition, state.key, form === "bytes" ? bytesStateOf(state) : jsonStateOf(state));
  };
  for (let i = 0; i < keys; i++) {
    put(i, 0);
    if ((i + 1) % FLUSH_EVERY === 0) await store.flush();
  }
  await store.flush();
  // a later state for every 4th key: the changelog is not compacted yet
  for (let i = 0; i < keys; i += 4) {
    put(i, 1);
    if ((i / 4 + 1) % FLUSH_EVERY === 0) await store.flush();
  }
  await store.flush();
  return { ms: performance.now() - started, bytes: store.stats().bytesWritten };
}

const partitionList = Array.from({ length: PARTITIONS }, (_, p) => p);

/**
 * The worker's inbound ring, as the dispatcher writes restores into it; what a worker would
 * read is taken out unread when the ring fills (the worker's decoding is its own thread's:
 * bench/window-state-encoding.ts measures it).
 */
const ring = sabRingChannel(4 * 1024 * 1024);
const skip = () => undefined;
function sendToWorker(write: () => boolean): void {
  while (!write()) {
    ring.writer.flush();
    ring.reader.drain(skip);
  }
}

/** the node's stores and restore: the stored bytes, per key, into the actor-state record for its worker */
async function bytesRestore(backend: Backend, applicationId: string): Promise<Timing> {
  const started = performance.now();
  const log = await backend.connect();
  try {
    const stores = await openActorStateStores(log, { applicationId, partitions: PARTITIONS });
    let firstMs = Number.POSITIVE_INFINITY;
    let keys = 0;
    // issued together, as the dispatcher does on assignment; the stores read one at a time
    await Promise.all(
      partitionList.map(async (p) => {
        await stores.restore([p], async (partition, kind, key, state) => {
          sendToWorker(() => writeHostInbound(ring.writer, { type: "restore", kind, key, partition, state }));
          keys++;
        });
        firstMs = Math.min(firstMs, performance.now() - started);
      }),
    );
    const allMs = performance.now() - started;
    return { allMs, firstMs, keys, records: 0 };
  } finally {
    await log.close();
  }
}

/** before: the JSON states decoded by the store, re-serialised per key into the restore envelope */
async function jsonRestore(backend: Backend, applicationId: string): Promise<Timing> {
  const started = performance.now();
  const log = await backend.connect();
  try {
    const store = await ChangelogStore.open({
      log,
      applicationId,
      kind: KIND,
      partitions: PARTITIONS,
      restoreConcurrency: 1,
      restoreBatchRecords: READ_RECORDS,
    });
    let firstMs = Number.POSITIVE_INFINITY;
    let keys = 0;
    let records = 0;
    // one partition at a time, its keys sent before the next is read, as the node's stores do now
    const turns = new RestoreSlots(1);
    await Promise.all(
      partitionList.map((partition) =>
        turns.run(async () => {
          const restored = await store.restorePartition(partition);
          records += restored.records;
          for (const [key, state] of restored.states) {
            sendToWorker(() => writeJsonEnvelope(ring.writer, { type: "restore", kind: KIND, key, state }));
            keys++;
            await Promise.resolve(); // the dispatcher awaited each send
          }
          firstMs = Math.min(firstMs, performance.now() - started);
        }),
      ),
    );
    const allMs = performance.now() - started;
    return { allMs, firstMs, keys, records };
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
  const stamp = Date.now().toString(36);
  const apps: Record<Form, string> = {
    bytes: `bench-failover-bytes-${stamp}`,
    json: `bench-failover-json-${stamp}`,
  };
  for (const form of ["bytes", "json"] as const) {
    const seed = await backend.connect();
    const written = await writeChangelog(seed, apps[form], backend.keys, form);
    await seed.close();
    console.log(
      `${backend.name}: wrote ${backend.keys.toLocaleString()} window actor states as ${form} (${(written.bytes / 1e6).toFixed(0)} MB) in ${(written.ms / 1000).toFixed(1)} s`,
    );
  }
  // one unmeasured restore of each warms the JIT and the page cache for every variant alike
  await runAgainOnFailure(backend.name, "warm-up", () => bytesRestore(backend, apps.bytes));
  await runAgainOnFailure(backend.name, "warm-up", () => jsonRestore(backend, apps.json));
  Bun.gc(true);
  const variants: [string, () => Promise<Timing>][] = [
    [VARIANTS.bytes, () => bytesRestore(backend, apps.bytes)],
    [VARIANTS.json, () => jsonRestore(backend, apps.json)],
    [VARIANTS.rawBytes, () => rawRead(backend, apps.bytes)],
    [VARIANTS.rawJson, () => rawRead(backend, apps.json)],
  ];
  // rounds of every variant, not every run of one variant in a row: on a shared machine the
  // load drifts over the minutes a run takes, and a variant measured in one stretch takes it all
  const timings = new Map<string, Timing[]>(variants.map(([variant]) => [variant, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const [variant, run] of variants) {
      const timing = await runAgainOnFailure(backend.name, variant, run);
      if (!variant.startsWith("raw") && timing.keys !== backend.keys) {
        throw new Error(`${backend.name} ${variant} restored ${timing.keys} keys, expected ${backend.keys}`);
      }
      timings.get(variant)!.push(timing);
      console.log(
        `  round ${round + 1} ${variant.padEnd(36)} all ${timing.allMs.toFixed(0).padStart(6)} ms  first ${timing.firstMs.toFixed(0).padStart(6)} ms  load ${loadavg()[0]!.toFixed(1)}`,
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

const VARIANTS = {
  bytes: "bytes passed through (node now)",
  json: "JSON decoded on main thread (before)",
  rawBytes: "raw read of the bytes",
  rawJson: "raw read of the JSON",
} as const;

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

  console.log(
    "\nfailover restore: all 12 partitions' states on their way to the workers (median of %d runs)",
    RUNS,
  );
  console.log("backend   variant                               keys      records   all (ms)  first (ms)");
  for (const row of rows) {
    console.log(
      `${row.backend.padEnd(9)} ${row.variant.padEnd(36)} ${String(row.keys).padStart(8)} ${String(row.records).padStart(10)} ${row.allMs.toFixed(0).padStart(10)} ${row.firstMs.toFixed(0).padStart(11)}`,
    );
  }
  if (kafkaNote !== "") console.log(`kafka: ${kafkaNote}`);
  console.log(
    `target: all partitions restored in <= 5000 ms for 1M keys (load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")})\n`,
  );
  for (const backend of new Set(rows.map((row) => row.backend))) {
    const of = (variant: string) => rows.find((row) => row.backend === backend && row.variant === variant)!;
    if (rows.filter((row) => row.backend === backend).length < 4) continue;
    const now = of(VARIANTS.bytes);
    const extra = { keys: now.keys, partitions: PARTITIONS };
    printFigure({
      name: `failover_restore_${backend}_all_partitions`,
      value: Math.round(now.allMs),
      unit: "ms",
      baseline: "json_decoded_on_main_thread",
      baseline_value: Math.round(of(VARIANTS.json).allMs),
      ...extra,
    });
    printFigure({
      name: `failover_restore_${backend}_vs_raw_read`,
      value: Math.round(now.allMs),
      unit: "ms",
      baseline: "raw_read_of_the_bytes",
      baseline_value: Math.round(of(VARIANTS.rawBytes).allMs),
      ...extra,
    });
    printFigure({
      name: `failover_restore_${backend}_first_partition`,
      value: Math.round(now.firstMs),
      unit: "ms",
      baseline: "json_first_partition",
      baseline_value: Math.round(of(VARIANTS.json).firstMs),
      ...extra,
    });
  }
}

await main();
