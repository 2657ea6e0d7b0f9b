import { afterAll, beforeAll, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { RunningNode } from "../../node/start-node.ts";
import { deleteRedisPrefix, redisUrl, requireRedis } from "../../testkit/redis-server.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/** The same push materialization with the online store on the real Redis (REDIS_URL). */
await requireRedis();
const WINDOW_MS = 10_000;
const APP = `features-redis-${Date.now().toString(36)}`;
let node: RunningNode;
let cleanup: () => Promise<void>;
const start = Math.floor((Date.now() - 600_000) / WINDOW_MS) * WINDOW_MS;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({
    ...{ windowMs: WINDOW_MS, commitIntervalMs: 100, features: "on", redisUrl, applicationId: APP },
  }));
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (let i = 0; i < 12; i++)
    await client.publishAsync(
      "city/sensors/traffic/traffic_rd1",
      JSON.stringify(trafficReading("traffic_rd1", start + i * 1000, 10 + i)),
      { qos: 1 },
    );
  await client.publishAsync(
    "city/sensors/traffic/traffic_rd1",
    JSON.stringify(trafficReading("traffic_rd1", start + 3 * WINDOW_MS, 5)),
    { qos: 1 },
  );
  await client.endAsync();
}, 60_000);
afterAll(async () => {
  await cleanup();
  await deleteRedisPrefix(`fs:${APP}`);
});

test("a node with REDIS_URL serves closed windows from Redis", async () => {
  const answer = await eventually(
    async () =>
      (await (
        await fetch(`${node.apiUrl}/api/features/online?view=sensor_traffic_window&sensor_id=traffic_rd1`)
      ).json()) as { results?: { eventTime: number; status: string; values: Record<string, unknown> }[] },
    (body) => body.results?.[0]?.eventTime === start + 2 * WINDOW_MS,
    30_000,
  );
  expect(answer.results?.[0]).toMatchObject({ status: "PRESENT", values: { reading_count: 2 } });
  const listed = (await (await fetch(`${node.apiUrl}/api/features`)).json()) as { onlineStore: string };
  expect(listed.onlineStore).toBe("redis");
});
