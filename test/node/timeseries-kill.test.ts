import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { platformTables } from "../../lake/timeseries/platform-tables.ts";
import { QuestDbTimeSeriesStore } from "../../lake/timeseries/questdb/questdb-time-series-store.ts";
import { openLog } from "../../log/index.ts";
import type { ProcessedReading } from "../../messages/processed-reading.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { PROCESSED_TOPICS } from "../../node/node-log.ts";
import { sinkMetric, spawnEmbeddedNode, waitFor } from "../../testkit/embedded-node-process.ts";
import { type PrivateQuestDb, privateQuestDb } from "../../testkit/questdb-server.ts";
import { seedTrafficChampion } from "../../testkit/seeded-champion.ts";

/**
 * kill -9 of a node in the middle of its time-series writes leaves no duplicate and no gap:
 * a `bun cluster.ts` process (embedded log, simulator on, QuestDB private to this test) is
 * killed while its sinks write, started again on the same data dir, stopped, and finally
 * drained with the simulator off. Before the drain the sinks' committed offsets are rewound to
 * the start of their topics: the worst a crash can do is land after every write and before
 * every commit, and the rewind makes that certain instead of a matter of the kill's timing, so
 * the drain writes every row a second time. The log is the clean run: every distinct reading on
 * city.sensors.silver and every final window on city.processed.* must be exactly one row in
 * QuestDB, with the same values (count and sum compared).
 */
let questdb: PrivateQuestDb;
let dataDir: string;

beforeAll(async () => {
  questdb = await privateQuestDb();
  dataDir = mkdtempSync(join(tmpdir(), "timeseries-kill-"));
  // a champion in the registry: every closed traffic window is forecast, so predictions flow too
  await seedTrafficChampion(dataDir, 2000);
}, 90_000);
afterAll(async () => {
  await questdb?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

const spawnNode = (simulate: boolean) =>
  spawnEmbeddedNode({
    dataDir,
    simulate,
    args: ["--questdb", questdb.httpUrl],
    env: { QUESTDB_PG_URL: questdb.pgUrl, TIMESERIES_LINGER_MS: "100", TIMESERIES_BATCH_SIZE: "200" },
  });
const metric = sinkMetric;

async function readTopic<T>(topics: readonly string[]): Promise<{ values: T[]; records: number }> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  const values: T[] = [];
  try {
    for (const topic of topics)
      for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
        for (let offset = 0; ; ) {
          const batch = await log.read({ topic, partition }, { fromOffset: offset, maxRecords: 5000 });
          if (batch.length === 0) break;
          for (const r of batch) values.push(JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as T);
          offset = batch.at(-1)!.offset + 1;
        }
  } finally {
    await log.close();
  }
  return { values, records: values.length };
}

/** every sink group's committed offsets back to 0, as a crash after each write and before each commit would leave them */
async function rewindSinks(): Promise<void> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    for (const [sink, topics] of [
      ["timeseries-readings", [Topics.silver]],
      ["timeseries-windows", PROCESSED_TOPICS],
    ] as const) {
      const consumer = log.consumer({ groupId: `city-platform-sink-${sink}`, topics });
      const all = topics.length * 4;
      const deadline = Date.now() + 30_000;
      while (consumer.assignment().length < all && Date.now() < deadline)
        await consumer.poll({ maxRecords: 1, timeoutMs: 100 });
      expect(consumer.assignment().length).toBe(all);
      expect((await log.groupOffsets(`city-platform-sink-${sink}`, topics[0]!)).size).toBeGreaterThan(0);
      await consumer.commit(consumer.assignment().map((tp) => ({ ...tp, offset: 0 })));
      await consumer.close();
    }
  } finally {
    await log.close();
  }
}

test("kill -9 mid-stream, restart, drain: every reading and final window is one row, none missing", async () => {
  const first = await spawnNode(true);
  // kill while the readings sink is writing: rows are in QuestDB and more are on their way
  await waitFor(
    "the first rows",
    async () => (await metric(first, "platform_sink_rows_total", "timeseries-readings")) >= 500,
    60_000,
  );
  first.proc.kill("SIGKILL");
  await first.proc.exited;

  const second = await spawnNode(true);
  await waitFor(
    "rows after the restart",
    async () => (await metric(second, "platform_sink_rows_total", "timeseries-readings")) >= 1000,
    60_000,
  );
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
  await rewindSinks();

  // drain: no new input; wait until every sink has committed everything it owns
  const drain = await spawnNode(false);
  const sinks = ["timeseries-readings", "timeseries-windows", "timeseries-predictions"];
  let quietSince = 0;
  await waitFor(
    "the sinks to drain",
    async () => {
      const lags = await Promise.all(sinks.map((s) => metric(drain, "platform_sink_lag_records", s)));
      const blocked = await Promise.all(sinks.map((s) => metric(drain, "platform_sink_blocked", s)));
      const idle = lags.every((l) => l === 0) && blocked.every((b) => b === 0);
      quietSince = idle ? quietSince || Date.now() : 0;
      return idle && Date.now() - quietSince > 4000; // two lag refreshes in a row
    },
    90_000,
  );
  drain.proc.kill("SIGTERM");
  expect(await drain.proc.exited).toBe(0);

  const silver = await readTopic<ProcessedReading>([Topics.silver]);
  const readings = new Map<string, ProcessedReading>();
  for (const r of silver.values) readings.set(`${r.sensor_id}@${r.event_time}`, r);
  const windows = new Map<string, WindowResult>();
  for (const w of (await readTopic<WindowResult>(PROCESSED_TOPICS)).values)
    if (w.final) windows.set(`${w.scope}/${w.key}@${w.window_start}`, w);
  expect(readings.size).toBeGreaterThan(1000);

  const tables = platformTables(() => 30);
  const store = new QuestDbTimeSeriesStore({ httpUrl: questdb.httpUrl, pgUrl: questdb.pgUrl });
  try {
    await store.ensureTable(tables.readings);
    await store.ensureTable(tables.windows);
    await store.awaitApplied("sensor_readings");
    await store.awaitApplied("sensor_windows");
    const stored = await store.query({ table: "sensor_readings", limit: 100_000 });
    const col = (name: string) => stored.columns.indexOf(name);
    const keys = stored.rows.map((r) => `${r[col("sensor_id")]}@${r[col("ts")]}`);
    expect(new Set(keys).size).toBe(keys.length); // no duplicate
    expect(keys.length).toBe(readings.size); // no gap
    for (const key of keys) expect(readings.has(key)).toBe(true);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const measured = (r: ProcessedReading) =>
      r.values.vehicle_count ?? r.values.temperature ?? r.values.consumption ?? 0;
    const storedSum = sum(
      stored.rows.map(
        (r) => (r[col("vehicle_count")] ?? r[col("temperature")] ?? r[col("consumption")] ?? 0) as number,
      ),
    );
    expect(storedSum).toBeCloseTo(sum([...readings.values()].map(measured)), 6);

    const storedWindows = await store.query({ table: "sensor_windows", limit: 100_000 });
    const wcol = (name: string) => storedWindows.columns.indexOf(name);
    const windowKeys = storedWindows.rows.map(
      (r) => `${r[wcol("scope")]}/${r[wcol("key")]}@${r[wcol("ts")]}`,
    );
    expect(new Set(windowKeys).size).toBe(windowKeys.length);
    expect(windowKeys.length).toBe(windows.size);
    expect(sum(storedWindows.rows.map((r) => r[wcol("count")] as number))).toBe(
      sum([...windows.values()].map((w) => w.count)),
    );
  } finally {
    await store.close();
  }
}, 300_000);
