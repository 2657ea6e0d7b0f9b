import { afterEach, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { createAedesBroker } from "../../../sources/mqtt/aedes-broker.ts";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";
import { createMqttSubscriber, type MqttSubscriber } from "../../../sources/mqtt/mqtt-subscriber.ts";
import { mqttSubscriberContract, until } from "./mqtt-subscriber.contract.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBroker(port = 0): Promise<MqttBroker> {
  const broker = createAedesBroker({ port });
  await broker.start();
  cleanups.push(() => broker.stop());
  return broker;
}
async function publisher(url: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  cleanups.push(() => c.endAsync(true));
  return c;
}
function track(s: MqttSubscriber): MqttSubscriber {
  cleanups.push(() => s.stop());
  return s;
}

mqttSubscriberContract("over TCP (external brokers; here aedes on this thread)", {
  startBroker: async () => {
    const broker = createAedesBroker();
    await broker.start();
    return broker;
  },
  subscriber: (broker, options) => createMqttSubscriber({ ...options, url: broker.url() }),
});

describe("MQTT subscriber over TCP", () => {
  test("after the broker restarts on the same port the subscriber reconnects and resubscribes", async () => {
    const first = createAedesBroker();
    await first.start();
    const url = first.url();
    const port = Number(new URL(url).port);
    const got: string[] = [];
    const sub = track(
      createMqttSubscriber({
        url,
        reconnectPeriodMs: 50,
        onBatch: (b) => void got.push(...b.map((m) => m.payload.toString())),
      }),
    );
    await sub.start();
    await first.stop();
    await startBroker(port);
    await until(() => sub.stats().reconnects > 0);
    const pub = await publisher(url);
    // the resubscription races the first publishes: publish until one arrives
    for (let i = 0; got.length === 0 && i < 200; i++) {
      await pub.publishAsync("city/sensors/environment/e1", "after-restart", { qos: 1 });
      await Bun.sleep(10);
    }
    expect(got).toContain("after-restart");
  });

  test("start rejects with INFRA_UNAVAILABLE when no broker listens, without the URL's credentials", async () => {
    const broker = await startBroker();
    const port = Number(new URL(broker.url()).port);
    await broker.stop();
    const sub = createMqttSubscriber({
      url: `mqtt://user:secret@127.0.0.1:${port}`,
      reconnectPeriodMs: 0,
      connectTimeoutMs: 2_000,
      onBatch: () => {},
    });
    const error = await sub.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatformError(error, ErrorCodes.INFRA_UNAVAILABLE)).toBe(true);
    expect(String((error as Error).message)).not.toContain("secret");
  });
});
