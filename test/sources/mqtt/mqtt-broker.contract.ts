import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";

/**
 * The conformance suite every MQTT broker adapter passes: the embedded aedes broker here, and
 * Mosquitto (`MOSQUITTO_URL`) when the infra scripts have started one. Topics carry a random
 * run id so the suite can share a long-lived external broker with other runs.
 */
export interface BrokerContractOptions {
  /** the adapter owns the broker process: stop() frees the port and start() works again */
  readonly owned: boolean;
}

export function mqttBrokerContract(
  name: string,
  makeBroker: () => MqttBroker | Promise<MqttBroker>,
  options: BrokerContractOptions = { owned: true },
): void {
  describe(`MQTT broker contract: ${name}`, () => {
    let broker: MqttBroker;
    const clients: MqttClient[] = [];
    const run = `contract-${Math.random().toString(36).slice(2, 10)}`;
    const connect = async () => {
      const c = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 0, connectTimeout: 5_000 });
      clients.push(c);
      return c;
    };
    const collect = (c: MqttClient, count: number) =>
      new Promise<{ topic: string; payload: Buffer }[]>((resolve, reject) => {
        const got: { topic: string; payload: Buffer }[] = [];
        const timer = setTimeout(
          () => reject(new Error(`only ${got.length} of ${count} messages arrived`)),
          10_000,
        );
        c.on("message", (topic, payload) => {
          got.push({ topic, payload });
          if (got.length === count) {
            clearTimeout(timer);
            resolve(got);
          }
        });
      });

    beforeAll(async () => {
      broker = await makeBroker();
      await broker.start();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.stop();
    });

    test("after start the broker has an mqtt URL and a second start changes nothing", async () => {
      const url = broker.url();
      expect(url).toMatch(/^(mqtts?|tcp|wss?):\/\//);
      await broker.start();
      expect(broker.url()).toBe(url);
    });

    test("a QoS 0 publish reaches a wildcard subscriber with topic and bytes intact", async () => {
      const [sub, pub] = [await connect(), await connect()];
      await sub.subscribeAsync(`city/sensors/${run}/#`, { qos: 0 });
      const arrived = collect(sub, 1);
      const payload = Buffer.from([0, 1, 2, 250, 255]);
      await pub.publishAsync(`city/sensors/${run}/t1`, payload, { qos: 0 });
      const [m] = await arrived;
      expect(m!.topic).toBe(`city/sensors/${run}/t1`);
      expect(Buffer.compare(m!.payload, payload)).toBe(0);
    });

    test("QoS 1 publishes are acknowledged and arrive in publish order on one topic", async () => {
      const [sub, pub] = [await connect(), await connect()];
      await sub.subscribeAsync(`city/sensors/${run}/ordered/#`, { qos: 1 });
      const arrived = collect(sub, 200);
      for (let i = 0; i < 200; i++) {
        // mqtt.js resolves a QoS 1 publish only once the broker's PUBACK arrives
        const sent = await pub.publishAsync(`city/sensors/${run}/ordered/s`, String(i), { qos: 1 });
        expect(sent?.cmd === "publish" && sent.qos === 1).toBe(true);
      }
      expect((await arrived).map((m) => Number(m.payload.toString()))).toEqual([...Array(200).keys()]);
    });

    test("a 100 KiB payload passes through unchanged: size limits are the parser's job", async () => {
      const [sub, pub] = [await connect(), await connect()];
      await sub.subscribeAsync(`city/sensors/${run}/big`, { qos: 1 });
      const arrived = collect(sub, 1);
      const payload = Buffer.alloc(100 * 1024, 7);
      await pub.publishAsync(`city/sensors/${run}/big`, payload, { qos: 1 });
      expect((await arrived)[0]!.payload.byteLength).toBe(payload.byteLength);
    });

    test("a subscriber does not receive topics outside its filter", async () => {
      const [sub, pub] = [await connect(), await connect()];
      await sub.subscribeAsync(`city/sensors/${run}/only/#`, { qos: 1 });
      const arrived = collect(sub, 1);
      await pub.publishAsync(`city/other/${run}/x`, "no", { qos: 1 });
      await pub.publishAsync(`city/sensors/${run}/only/x`, "yes", { qos: 1 });
      expect((await arrived).map((m) => m.payload.toString())).toEqual(["yes"]);
    });

    if (options.owned) {
      test("stop frees the port and disconnects clients, and the broker starts again", async () => {
        const c = await connect();
        const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
        const url = broker.url();
        await broker.stop();
        await closed;
        expect(() => broker.url()).toThrow();
        await expect(
          mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1_000 }),
        ).rejects.toBeDefined();
        await broker.start();
        const again = await connect();
        expect(again.connected).toBe(true);
      });
    }
  });
}
