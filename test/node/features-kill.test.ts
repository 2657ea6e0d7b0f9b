import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedOnlineStore } from "../../features/online/embedded-online-store.ts";
import { sensorWindowView } from "../../features/views/iot-views.ts";
import { openLog } from "../../log/index.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { SENSOR_TYPES } from "../../messages/sensor-reading.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { PROCESSED_TOPICS } from "../../node/node-log.ts";
import {
  type EmbeddedNodeProcess,
  sinkMetric,
  spawnEmbeddedNode,
  waitFor,
} from "../../testkit/embedded-node-process.ts";

/**
 * kill -9 of a node while it pushes window features into its online store loses nothing and
 * leaves nothing stale: a `bun cluster.ts` process (embedded log, simulator on) is killed while
 * the features sink writes, started again on the same data dir, stopped, and drained with the
 * simulator off after the sink's committed offsets were rewound to the start of its topics (the
 * worst a crash can do: every write done, no commit), so every window is written a second time,
 * old ones after new ones. Then each sensor's entry in the online store must be its newest final
 * window on the log, value for value.
 */
const SINK = "features-online";
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "features-kill-"));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type NodeProcess = EmbeddedNodeProcess;

const spawnNode = (simulate: boolean) =>
  spawnEmbeddedNode({
    dataDir,
    simulate,
    rate: 300,
    sensors: 10,
    env: { LAKE: "off", NEWS: "off", MARKET: "off", FEATURES: "on" },
  });
const metric = (node: NodeProcess, name: string) => sinkMetric(node, name, SINK);

async function finalWindows(): Promise<WindowResult[]> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  const values: WindowResult[] = [];
  try {
    for (const topic of PROCESSED_TOPICS)
      for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
        for (let offset = 0; ; ) {
          const batch = await log.read({ topic, partition }, { fromOffset: offset, maxRecords: 5000 });
          if (batch.length === 0) break;
          for (const r of batch) {
            const w = JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as WindowResult;
            if (w.final && w.scope === "sensor") values.push(w);
          }
          offset = batch.at(-1)!.offset + 1;
        }
  } finally {
    await log.close();
  }
  return values;
}

async function rewindSink(): Promise<void> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  const group = `city-platform-sink-${SINK}`;
  try {
    const consumer = log.consumer({ groupId: group, topics: PROCESSED_TOPICS });
    const all = PROCESSED_TOPICS.length * 4;
    const deadline = Date.now() + 30_000;
    while (consumer.assignment().length < all && Date.now() < deadline)
      await consumer.poll({ maxRecords: 1, timeoutMs: 100 });
    expect(consumer.assignment().length).toBe(all);
    expect((await log.groupOffsets(group, PROCESSED_TOPICS[0]!)).size).toBeGreaterThan(0);
    await consumer.commit(consumer.assignment().map((tp) => ({ ...tp, offset: 0 })));
    await consumer.close();
  } finally {
    await log.close();
  }
}

test("kill -9 mid-stream, restart, replay from the start: each sensor's online features are its newest final window", async () => {
  const first = await spawnNode(true);
  await waitFor(
    "the first features",
    async () => (await metric(first, "platform_sink_rows_total")) >= 100,
    60_000,
  );
  first.proc.kill("SIGKILL");
  await first.proc.exited;

  const second = await spawnNode(true);
  await waitFor(
    "features after the restart",
    async () => (await metric(second, "platform_sink_rows_total")) >= 200,
    60_000,
  );
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
  await rewindSink();

  const drain = await spawnNode(false);
  let quietSince = 0;
  await waitFor(
    "the features sink to drain",
    async () => {
      const idle =
        (await metric(drain, "platform_sink_lag_records")) === 0 &&
        (await metric(drain, "platform_sink_blocked")) === 0;
      quietSince = idle ? quietSince || Date.now() : 0;
      return idle && Date.now() - quietSince > 4000;
    },
    90_000,
  );
  drain.proc.kill("SIGTERM");
  expect(await drain.proc.exited).toBe(0);

  // the newest final window per sensor, as the online store must hold it (later emission wins a tie)
  const newest = new Map<string, WindowResult>();
  for (const w of await finalWindows()) {
    const seen = newest.get(w.key);
    if (
      !seen ||
      w.window_end > seen.window_end ||
      (w.window_end === seen.window_end && w.emitted_at >= seen.emitted_at)
    )
      newest.set(w.key, w);
  }
  expect(newest.size).toBeGreaterThan(10);
  const store = new EmbeddedOnlineStore(join(dataDir, "features", "online.db"));
  try {
    for (const type of SENSOR_TYPES) {
      const view = sensorWindowView(type);
      const windows = [...newest.values()].filter((w) => w.type === type);
      const stored = await store.read(
        { name: view.name, version: 1 },
        windows.map((w) => w.key),
        0,
      );
      for (const [i, w] of windows.entries()) {
        expect([w.key, stored[i]?.eventTime]).toEqual([w.key, w.window_end]);
        expect(stored[i]?.values.reading_count).toBe(w.count);
        const [first] = Object.entries(w.fields);
        if (first) expect(stored[i]?.values[`${first[0]}_mean`]).toBe(first[1].mean);
      }
    }
  } finally {
    await store.close();
  }
}, 300_000);
