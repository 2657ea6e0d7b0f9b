import { afterAll, describe, expect, test } from "bun:test";
import { EmbeddedOnlineStore } from "../../features/online/embedded-online-store.ts";
import type { OnlineStore } from "../../features/online/online-store.ts";
import { RedisOnlineStore } from "../../features/online/redis-online-store.ts";
import { createOnlineEntityEraser } from "../../security/online-entity-eraser.ts";
import { deleteRedisPrefix, redisUrl, requireRedis, uniqueRedisPrefix } from "../../testkit/redis-server.ts";

const T0 = Date.UTC(2026, 5, 1);
const views = [
  { name: "sensor_window_stats", entity: "sensor_id" },
  { name: "district_hourly", entity: "district" },
];

function eraserSuite(name: string, open: () => Promise<OnlineStore>): void {
  describe(`the online store's eraser: ${name}`, () => {
    test("deletes the sensor in every version of the views keyed by sensor, and nothing in other views", async () => {
      const store = await open();
      try {
        for (const version of [1, 2])
          await store.write({ name: "sensor_window_stats", version }, [
            { entity: "traffic_7", eventTime: T0, createdTime: T0, values: { mean: 1 } },
            { entity: "traffic_8", eventTime: T0, createdTime: T0, values: { mean: 2 } },
          ]);
        // a district that happens to share the id is another entity
        await store.write({ name: "district_hourly", version: 1 }, [
          { entity: "traffic_7", eventTime: T0, createdTime: T0, values: { n: 3 } },
        ]);
        const eraser = createOnlineEntityEraser(store, () => views);
        const outcomes = await eraser.erase({
          requestId: "r1",
          entity: { kind: "sensor", id: "traffic_7" },
          requestedBy: "dpo@example",
          requestedAt: T0,
        });
        expect(outcomes).toEqual([
          {
            store: `online-features:${store.kind}`,
            status: "erased",
            items: 2,
            detail: "sensor_window_stats: 2 entries deleted",
          },
        ]);
        for (const version of [1, 2]) {
          const got = await store.read(
            { name: "sensor_window_stats", version },
            ["traffic_7", "traffic_8"],
            T0,
          );
          expect(got.map((g) => g?.values.mean)).toEqual([undefined, 2]);
        }
        expect(
          (await store.read({ name: "district_hourly", version: 1 }, ["traffic_7"], T0))[0]?.values.n,
        ).toBe(3);
        const users = await eraser.erase({
          requestId: "r2",
          entity: { kind: "user", id: "u1" },
          requestedBy: "dpo@example",
          requestedAt: T0,
        });
        expect(users.map((o) => o.status)).toEqual(["not-applicable"]);
      } finally {
        await store.close();
      }
    });
  });
}

eraserSuite("embedded", async () => new EmbeddedOnlineStore(":memory:"));

await requireRedis();
const prefix = uniqueRedisPrefix("online-eraser");
afterAll(() => deleteRedisPrefix(prefix));
eraserSuite("Redis (real server)", () => RedisOnlineStore.open({ url: redisUrl, prefix }));
