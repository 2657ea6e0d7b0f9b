import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { materialize } from "../../features/materialize/batch-materializer.ts";
import { onlineStoreTarget, streamRows } from "../../features/materialize/stream-materializer.ts";
import { retrieveTrainingSet } from "../../features/offline/point-in-time.ts";
import { EmbeddedOnlineStore } from "../../features/online/embedded-online-store.ts";
import type { OnlineStore } from "../../features/online/online-store.ts";
import { RedisOnlineStore } from "../../features/online/redis-online-store.ts";
import { sensorWindowView } from "../../features/views/iot-views.ts";
import type { DeltaTable } from "../../lake/delta/delta-table.ts";
import { lakeTable } from "../../lake/tables/catalogue.ts";
import { openLakeTables } from "../../lake/tables/open-lake-tables.ts";
import type { LogRecord } from "../../log/log.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { deleteRedisPrefix, redisAnswers, redisUrl, uniqueRedisPrefix } from "../../testkit/redis-server.ts";
import { registered } from "./feature-fixtures.ts";

/**
 * Online/offline parity: the same window results go to the lake (the gold table, through its own
 * row mapping) and to the online store (streamed as the node does, and batch-materialized from
 * the table); a point-in-time join at the serving instant must give the values served online,
 * feature by feature, on the embedded store and on Redis.
 */
const NOW = Date.now();
const MIN = 60_000;
const view = registered(sensorWindowView("traffic"), 1);
const gold = lakeTable("gold_sensor_windows")!;
const SENSORS = Array.from({ length: 40 }, (_, i) => `traffic_${i}`);

/** per sensor a few closed windows; some repeated (a crash re-emitted them later) */
function windowResults(): WindowResult[] {
  const out: WindowResult[] = [];
  for (const [i, sensor] of SENSORS.entries()) {
    for (let w = 0; w < 4; w++) {
      const end = NOW - (4 - w) * MIN - i * 1000;
      const speed = 20 + ((i * 7 + w * 13) % 50) + 0.25;
      const result: WindowResult = {
        ...{ scope: "sensor", key: sensor, type: "traffic", window_start: end - MIN, window_end: end },
        count: 5 + w,
        fields: {
          vehicle_count: { count: 5 + w, sum: 50 + w, mean: 10 + w + i / 10, min: 1, max: 20 + w },
          avg_speed: { count: 5 + w, sum: speed * 5, mean: speed, min: speed - 3, max: speed + 4 },
        },
        final: true,
        emitted_at: end + 10,
      };
      out.push(result);
      // the last window of every 5th sensor comes again with a later emission and other values
      if (w === 3 && i % 5 === 0)
        out.push({
          ...result,
          emitted_at: end + 500,
          fields: { ...result.fields, avg_speed: { ...result.fields.avg_speed!, mean: speed + 100 } },
        });
    }
  }
  // sensor-scope results of another type, and a type-scope result, are not this view's
  out.push({ ...out[0]!, type: "environment", key: "env_1" }, { ...out[0]!, scope: "type", key: "traffic" });
  return out;
}

const record = (offset: number): LogRecord => ({
  topic: Topics.processed("traffic"),
  partition: 0,
  offset,
  key: null,
  value: null,
  timestamp: NOW,
  headers: [],
});

const dir = mkdtempSync(join(tmpdir(), "feature-parity-"));
let table: DeltaTable;
beforeAll(async () => {
  table = (await openLakeTables(join(dir, "lake"), {}, [gold])).get(gold.name)!;
  const results = windowResults();
  await table.append(results.flatMap((r, i) => gold.toRows!(r, record(i))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function parity(openStore: () => Promise<OnlineStore>) {
  const streamed = await openStore();
  const batched = await openStore();
  try {
    const toRows = streamRows([{ view, table: gold }]);
    const rows = windowResults().flatMap((r, i) => toRows(r, record(i)));
    await onlineStoreTarget([{ view, table: gold }], streamed).write({ rows, offsets: [] });
    await materialize(view, await table.snapshot(), batched, { from: 0, to: NOW + 1, now: NOW });

    const key = { name: view.name, version: view.version };
    const online = await streamed.read(key, SENSORS, NOW);
    const fromBatch = await batched.read(key, SENSORS, NOW);
    const offline = await retrieveTrainingSet({
      views: [{ view, snapshot: await table.snapshot() }],
      entities: { rows: SENSORS.map((sensor_id) => ({ sensor_id, event_timestamp: NOW })) },
      now: NOW,
    });
    const names = view.definition.features.map((f) => f.name);
    for (const [i, sensor] of SENSORS.entries()) {
      const joined = Object.fromEntries(names.map((n) => [n, offline.rows![i]![n]]));
      expect({ sensor, ...online[i]?.values }).toEqual({ sensor, ...joined });
      expect({ sensor, ...fromBatch[i]?.values }).toEqual({ sensor, ...joined });
    }
    // the re-emitted windows won on both sides
    expect(online[0]?.values.avg_speed_mean).toBeGreaterThan(100);
    expect(await streamed.read(key, ["env_1", "traffic"], NOW)).toEqual([undefined, undefined]);
  } finally {
    await streamed.close();
    await batched.close();
  }
}

describe("online/offline parity", () => {
  test("embedded store: streamed, batch-materialized and point-in-time values are equal", async () => {
    let n = 0;
    await parity(async () => new EmbeddedOnlineStore(join(dir, `online-${n++}.db`)));
  });

  test("Redis: streamed, batch-materialized and point-in-time values are equal", async () => {
    if (!(await redisAnswers())) throw new Error(`no Redis at ${redisUrl}: bun run infra:up redis`);
    const prefixes: string[] = [];
    try {
      await parity(() => {
        prefixes.push(uniqueRedisPrefix("parity"));
        return RedisOnlineStore.open({ url: redisUrl, prefix: prefixes.at(-1)! });
      });
    } finally {
      for (const prefix of prefixes) await deleteRedisPrefix(prefix);
    }
  });
});
