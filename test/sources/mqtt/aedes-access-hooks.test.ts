import { afterEach, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { createAedesBroker } from "../../../sources/mqtt/aedes-broker.ts";
import { createAedesWorkerBroker } from "../../../sources/mqtt/aedes-worker-broker.ts";
import { mqttAuthFromEnv } from "../../../sources/mqtt/mqtt-auth-config.ts";
import { ingestClientIdPrefix } from "../../../sources/mqtt/mqtt-credentials.ts";
import { createMqttSubscriber } from "../../../sources/mqtt/mqtt-subscriber.ts";
import { mqttAccessContract } from "./mqtt-access.contract.ts";

const secret = "test-secret-0123456789abcdef";
const applicationId = "access-app";
const devices = ["traffic-1", "traffic-2"];

for (const [name, make] of [
  ["embedded aedes", createAedesBroker],
  ["embedded aedes on its own worker thread", createAedesWorkerBroker],
] as const)
  mqttAccessContract(`${name} with MQTT_DEVICE_SECRET`, async () => {
    const broker = make({ access: { secret, allowAnonymous: false } });
    await broker.start();
    return {
      protocolVersion: 4,
      deviceUrl: broker.url(),
      serviceUrl: broker.url(),
      secret,
      applicationId,
      devices,
      stop: () => broker.stop(),
    };
  });

describe("embedded aedes without MQTT_DEVICE_SECRET (open to anonymous devices)", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  test("an anonymous client cannot take the ingest's client id, and the ingest keeps receiving (regression: 201/s down to 36/s)", async () => {
    // the node's own secret, random per process: only its ingest knows the derived password
    const auth = mqttAuthFromEnv({}, applicationId, false);
    const broker = createAedesBroker({ access: auth.access });
    await broker.start();
    cleanups.push(() => broker.stop());
    const clientId = `${ingestClientIdPrefix(applicationId)}0badc0de`;
    const received: string[] = [];
    const ingest = createMqttSubscriber({
      url: broker.url(),
      clientId,
      cleanSession: false,
      ...(auth.ingest ? { credentials: auth.ingest } : {}),
      onBatch: (batch) => {
        for (const m of batch) received.push(m.topic);
      },
    });
    await ingest.start();
    cleanups.push(() => ingest.stop());

    const sensor = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 });
    cleanups.push(() => sensor.endAsync(true));
    let refusals = 0;
    for (let i = 0; i < 20; i++) {
      await sensor.publishAsync("city/sensors/traffic/open-1", String(i), { qos: 1 });
      const intruder = await mqtt
        .connectAsync(broker.url(), { reconnectPeriod: 0, clientId })
        .catch((error: { code?: number }) => {
          if (error.code === 2) refusals++;
          return undefined;
        });
      await intruder?.endAsync(true);
    }
    const deadline = Date.now() + 10_000;
    while (received.length < 20 && Date.now() < deadline) await Bun.sleep(10);
    expect(refusals).toBe(20);
    expect(received.length).toBe(20);
    expect(ingest.stats()).toMatchObject({ connected: true, disconnects: 0 });
  });

  test("anonymous devices still publish and subscribe as before (the zero-setup default)", async () => {
    const broker = createAedesBroker({ access: mqttAuthFromEnv({}, applicationId, false).access });
    await broker.start();
    cleanups.push(() => broker.stop());
    const listener = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 });
    const sensor = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 });
    cleanups.push(
      () => listener.endAsync(true),
      () => sensor.endAsync(true),
    );
    const got = new Promise<string>((resolve) => listener.once("message", (topic) => resolve(topic)));
    await listener.subscribeAsync("city/sensors/#", { qos: 1 });
    await sensor.publishAsync("city/sensors/traffic/open-2", "1", { qos: 1 });
    expect(await got).toBe("city/sensors/traffic/open-2");
  });
});
