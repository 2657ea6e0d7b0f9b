import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeltaTable } from "../../lake/delta/delta-table.ts";
import { LAKE_TABLES, tableDir } from "../../lake/tables/catalogue.ts";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { sinkMetric, spawnEmbeddedNode, waitFor } from "../../testkit/embedded-node-process.ts";
import { expectedRows } from "../../testkit/lake-audit.ts";
import { seedTrafficChampion } from "../../testkit/seeded-champion.ts";

/**
 * kill -9 of a node in the middle of its lake writes leaves no duplicate and no gap: a
 * `bun cluster.ts` process (embedded log, simulator on) is killed while its lake sinks commit,
 * started again on the same data dir, stopped, and finally drained with the simulator off.
 * Before the drain every lake sink's committed offsets are rewound to the start of its topics,
 * the worst a crash can do (after every Delta commit, before every log commit), so the drain
 * replays every record against tables that already hold them: the per-partition txn actions must
 * skip them all. The log is the clean run: each table must hold exactly the rows its topics
 * imply (one per row id), no more, no fewer, with the same sums.
 */
// the news and market rooms are off here: their tables have no sinks
const SINKS = LAKE_TABLES.filter((t) => t.topics.length > 0 && t.room === undefined);
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "lake-kill-"));
  // a champion in the registry: every closed traffic window is forecast, so predictions flow too
  await seedTrafficChampion(dataDir, 2000);
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const spawnNode = (simulate: boolean) =>
  spawnEmbeddedNode({
    dataDir,
    simulate,
    env: {
      LAKE: "on",
      LAKE_DIR: "",
      LAKE_LINGER_MS: "100",
      LAKE_BATCH_SIZE: "200",
      LAKE_GOLD_EVERY_MS: "2000",
      // compaction and vacuum mid-crash are part of the test: often, and with no retention
      LAKE_OPTIMIZE_EVERY_MS: "3000",
      NEWS: "off",
      MARKET: "off",
    },
  });
const metric = sinkMetric;

async function withLog<T>(work: (log: Log) => Promise<T>): Promise<T> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    return await work(log);
  } finally {
    await log.close();
  }
}

/** every lake sink's committed offsets back to 0, as a crash after each write and before each commit would leave them */
async function rewindSinks(): Promise<void> {
  await withLog(async (log) => {
    for (const table of SINKS) {
      const groupId = `city-platform-sink-lake-${table.name}`;
      const consumer = log.consumer({ groupId, topics: table.topics });
      let all = 0;
      for (const topic of table.topics) all += (await log.partitions(topic)) ?? 0;
      const deadline = Date.now() + 30_000;
      while (consumer.assignment().length < all && Date.now() < deadline)
        await consumer.poll({ maxRecords: 1, timeoutMs: 100 });
      expect(consumer.assignment().length).toBe(all);
      await consumer.commit(consumer.assignment().map((tp) => ({ ...tp, offset: 0 })));
      await consumer.close();
    }
  });
}

const decoder = new TextDecoder();
const decodeJson = (bytes: Uint8Array) =>
  JSON.parse(decoder.decode(bytes[0] === 0 ? payloadOf(bytes) : bytes)) as unknown;

test("kill -9 mid-stream, restart, replay everything: every lake table holds each row once, none missing", async () => {
  const first = await spawnNode(true);
  await waitFor(
    "the first silver rows in the lake",
    async () => (await metric(first, "platform_sink_rows_total", "lake-silver_sensor_readings")) >= 500,
    90_000,
  );
  first.proc.kill("SIGKILL");
  await first.proc.exited;

  const second = await spawnNode(true);
  await waitFor(
    "lake rows after the restart",
    async () => (await metric(second, "platform_sink_rows_total", "lake-silver_sensor_readings")) >= 500,
    90_000,
  );
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
  await rewindSinks();

  // drain: no new input; wait until every lake sink has committed everything it owns
  const drain = await spawnNode(false);
  const sinks = SINKS.map((t) => `lake-${t.name}`);
  let quietSince = 0;
  await waitFor(
    "the lake sinks to drain",
    async () => {
      const lags = await Promise.all(sinks.map((s) => metric(drain, "platform_sink_lag_records", s)));
      const blocked = await Promise.all(sinks.map((s) => metric(drain, "platform_sink_blocked", s)));
      const idle = lags.every((l) => l === 0) && blocked.every((b) => b === 0);
      quietSince = idle ? quietSince || Date.now() : 0;
      return idle && Date.now() - quietSince > 4000; // two lag refreshes in a row
    },
    120_000,
  );
  drain.proc.kill("SIGTERM");
  expect(await drain.proc.exited).toBe(0);

  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  for (const table of SINKS) {
    const expected = await withLog((log) => expectedRows(log, table, decodeJson));
    const delta = await DeltaTable.open(tableDir(join(dataDir, "lake"), table));
    const rows = await delta.readRows();
    const key = (row: Record<string, unknown>) =>
      table.rowId
        ? String(row[table.rowId])
        : `${table.topics[0]}/${row.source_partition}@${row.source_offset}`;
    const keys = rows.map(key);
    expect({ table: table.name, duplicates: keys.length - new Set(keys).size }).toEqual({
      table: table.name,
      duplicates: 0,
    });
    expect({ table: table.name, rows: keys.length }).toEqual({ table: table.name, rows: expected.size });
    expect({
      table: table.name,
      missing: [...expected.keys()].filter((k) => !keys.includes(k)).length,
    }).toEqual({
      table: table.name,
      missing: 0,
    });
    const numeric = table.name.includes("windows")
      ? "count"
      : table.name.includes("predictions")
        ? "value"
        : "source_offset";
    expect(sum(rows.map((r) => Number(r[numeric] ?? 0)))).toBeCloseTo(
      sum([...expected.values()].map((r) => Number(r[numeric] ?? 0))),
      6,
    );
  }
  const silver = await withLog((log) =>
    expectedRows(log, LAKE_TABLES.find((t) => t.name === "silver_sensor_readings")!, decodeJson),
  );
  expect(silver.size).toBeGreaterThan(1000);
}, 420_000);
