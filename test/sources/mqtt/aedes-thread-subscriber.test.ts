import { afterEach, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import {
  type AedesWorkerBroker,
  createAedesWorkerBroker,
} from "../../../sources/mqtt/aedes-worker-broker.ts";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";
import { mqttSubscriberContract, until } from "./mqtt-subscriber.contract.ts";

const INGEST = "city-platform-ingest-test";

mqttSubscriberContract("on the embedded broker's own thread (the node's default)", {
  startBroker: async () => {
    const broker = createAedesWorkerBroker();
    await broker.start();
    return broker;
  },
  subscriber: (broker: MqttBroker, options) => (broker as AedesWorkerBroker).ingestSubscriber(options),
});

describe("the embedded broker's own-thread subscriber", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  test("a device's QoS 1 publish is acknowledged only after the main thread's batch resolved", async () => {
    const broker = createAedesWorkerBroker({ ackChain: { subscriberIdPrefix: INGEST } });
    await broker.start();
    cleanups.push(() => broker.stop());
    let release: () => void = () => {};
    const durable = new Promise<void>((resolve) => {
      release = resolve;
    });
    const got: string[] = [];
    const sub = broker.ingestSubscriber({
      clientId: `${INGEST}-1`,
      cleanSession: false,
      onBatch: async (batch) => {
        got.push(...batch.map((m) => `${m.topic}=${m.payload.toString()}`));
        await durable;
      },
    });
    await sub.start();
    cleanups.push(() => sub.stop());
    const device = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 });
    cleanups.push(() => device.endAsync(true));
    let acked = false;
    const publish = device.publishAsync("city/sensors/traffic/t1", "é1", { qos: 1 }).then(() => {
      acked = true;
    });
    await until(() => got.length === 1);
    await Bun.sleep(100);
    // received on main, not yet durable: the device holds its reading
    expect(acked).toBe(false);
    release();
    await publish;
    expect(got).toEqual(["city/sensors/traffic/t1=é1"]);
    await until(() => sub.stats().acknowledged === 1);
  });

  test("a failure on the main thread reaches onError with its code, and the batch is retried", async () => {
    const broker = createAedesWorkerBroker();
    await broker.start();
    cleanups.push(() => broker.stop());
    const errors: { code: string; message: string; cause: string }[] = [];
    let calls = 0;
    const sub = broker.ingestSubscriber({
      onBatch: () => {
        calls++;
        if (calls === 1) throw new Error("log away");
      },
      onError: (error) =>
        errors.push({
          code: error.code,
          message: error.message,
          cause: String((error.cause as Error)?.message),
        }),
    });
    await sub.start();
    cleanups.push(() => sub.stop());
    const device = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0 });
    cleanups.push(() => device.endAsync(true));
    await device.publishAsync("city/sensors/traffic/t1", "1", { qos: 1 });
    await until(() => calls === 2);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe("INFRA_UNAVAILABLE");
    expect(errors[0]!.cause).toContain("log away");
    expect(errors[0]!.message).not.toContain("INFRA_UNAVAILABLE: INFRA_UNAVAILABLE");
  });

  test("a subscriber of a broker not started refuses to start", async () => {
    const broker = createAedesWorkerBroker();
    const sub = broker.ingestSubscriber({ onBatch: () => {} });
    await expect(sub.start()).rejects.toThrow("needs the broker started");
  });
});
