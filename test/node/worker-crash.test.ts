import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { FeedSocket } from "../../api/feeds/feed-hub.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A Bun worker that dies mid-stream is restarted by the node's root supervisor (the worker
 * pool), its actors come back on their first message, and the readings it had in flight are
 * replayed from the committed offsets: every reading is processed at least once.
 */
class CollectingSocket implements FeedSocket {
  readonly messages: { feed?: string; data?: Record<string, unknown> }[] = [];
  send(text: string): number {
    this.messages.push(JSON.parse(text));
    return text.length;
  }
  bufferedAmount(): number {
    return 0;
  }
  close(): void {}
  terminate(): void {}
}

describe("a node whose worker crashes mid-stream", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  let client: mqtt.MqttClient;
  const socket = new CollectingSocket();
  const sensors = Array.from({ length: 40 }, (_, i) => `traffic_${i}`);
  const perSensor = 150;
  const start = Date.now() - 120_000;

  beforeAll(async () => {
    ({ node, cleanup } = await startTestNode({ workers: 2, partitions: 8 }));
    const id = node.feeds.connect(socket);
    node.feeds.control(id, JSON.stringify({ op: "subscribe", feeds: ["readings", "supervisor"] }));
    client = await mqtt.connectAsync(node.mqttUrl);
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < perSensor; i++)
      for (const sensor of sensors)
        sends.push(
          client.publishAsync(
            `city/sensors/traffic/${sensor}`,
            JSON.stringify(trafficReading(sensor, start + i * 1000)),
            {
              qos: 1,
            },
          ),
        );
    // kill while records are in the worker's rings and mailboxes, not after they are done
    await eventually(
      () => node.progress().consumed,
      (consumed) => consumed >= 1000,
    );
    node.killWorker(0);
    await Promise.all(sends);
  });

  afterAll(async () => {
    await client?.endAsync();
    await cleanup?.();
  });

  test("the crash and the restart are published on the supervisor feed", async () => {
    const types = await eventually(
      () => socket.messages.filter((m) => m.feed === "supervisor").map((m) => m.data?.type),
      (seen) => seen.includes("worker-restarted"),
    );
    expect(types).toContain("worker-crashed");
    expect(types).toContain("worker-restarted");
  });

  test("every reading is processed at least once, the lost ones replayed from the log", async () => {
    const expected = sensors.length * perSensor;
    const seen = await eventually(
      () =>
        new Set(
          socket.messages
            .filter((m) => m.feed === "readings")
            .map((m) => `${m.data?.sensor_id}@${m.data?.event_time}`),
        ),
      (set) => set.size >= expected,
    );
    expect(seen.size).toBe(expected);
  });

  test("the restarted worker's actors are back: its sensors keep reporting", async () => {
    const restartedSensors = new Set(
      socket.messages.filter((m) => m.feed === "readings").map((m) => m.data?.sensor_id),
    );
    expect(restartedSensors.size).toBe(sensors.length);
    expect((await fetch(`${node.apiUrl}/health`)).status).toBe(200);
  });
});
