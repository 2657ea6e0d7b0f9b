import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import type { RunningNode } from "../../node/start-node.ts";
import { credentialsFor } from "../../sources/mqtt/mqtt-credentials.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A node started with MQTT_DEVICE_SECRET: its embedded broker admits only derived credentials,
 * its simulator publishes as a gateway and is ingested, a device publishes its own readings, and
 * a spoofed reading or an anonymous client gets nothing in.
 */
const secret = "node-edge-secret-0123456789abcdef";
let node: RunningNode;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const before = process.env.MQTT_DEVICE_SECRET;
  // the edge reads the secret at start only
  process.env.MQTT_DEVICE_SECRET = secret;
  try {
    ({ node, cleanup } = await startTestNode({ simulate: true, rate: 50 }));
  } finally {
    if (before === undefined) delete process.env.MQTT_DEVICE_SECRET;
    else process.env.MQTT_DEVICE_SECRET = before;
  }
});
afterAll(async () => {
  await cleanup?.();
});

describe("a node with MQTT_DEVICE_SECRET", () => {
  test("the simulator publishes with its gateway credentials and its readings are ingested", async () => {
    const progress = await eventually(
      () => node.progress(),
      (p) => p.ingested >= 20,
    );
    expect(progress.ingested).toBeGreaterThanOrEqual(20);
  });

  test("a device's own reading is ingested; its spoof of another sensor is not", async () => {
    const device = await mqtt.connectAsync(node.mqttUrl, {
      reconnectPeriod: 0,
      ...credentialsFor(secret, "auth-dev-1"),
    });
    try {
      const now = Date.now();
      await device.publishAsync(
        "city/sensors/traffic/auth-dev-1",
        JSON.stringify(trafficReading("auth-dev-1", now)),
        {
          qos: 1,
        },
      );
      const closed = new Promise<void>((resolve) => device.once("close", () => resolve()));
      device.publish("city/sensors/traffic/auth-dev-2", JSON.stringify(trafficReading("auth-dev-2", now)), {
        qos: 1,
      });
      await closed;
    } finally {
      await device.endAsync(true);
    }
    const own = await eventually(
      () => fetch(`${node.apiUrl}/api/sensors/auth-dev-1`).then((r) => r.status),
      (status) => status === 200,
    );
    expect(own).toBe(200);
    expect((await fetch(`${node.apiUrl}/api/sensors/auth-dev-2`)).status).toBe(404);
  });

  test("an anonymous client is refused", async () => {
    const error = await mqtt.connectAsync(node.mqttUrl, { reconnectPeriod: 0 }).then(
      async (c) => {
        await c.endAsync(true);
        return undefined;
      },
      (e: { code?: number }) => e,
    );
    expect(error?.code).toBe(5);
  });
});
