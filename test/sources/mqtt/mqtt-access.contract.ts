import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import {
  credentialsFor,
  gatewayUsername,
  ingestClientIdPrefix,
  ingestUsername,
} from "../../../sources/mqtt/mqtt-credentials.ts";
import { createMqttSubscriber, type MqttSubscriber } from "../../../sources/mqtt/mqtt-subscriber.ts";

/**
 * The access contract every authenticated MQTT broker keeps: the embedded aedes broker with its
 * hooks, and Mosquitto with the password and ACL files `infra/mosquitto/write-auth.ts` writes.
 * Outcomes are judged where they matter (what the ingest receives, whether the ingest stays
 * connected), since brokers refuse differently: aedes closes a client that publishes where it
 * may not, Mosquitto drops the message (MQTT 3.1.1) or answers 0x87 (MQTT 5).
 */
export interface AccessTarget {
  readonly protocolVersion: 4 | 5;
  /** where devices connect */
  readonly deviceUrl: string;
  /** where the platform's services (ingest, gateways) connect */
  readonly serviceUrl: string;
  readonly secret: string;
  readonly applicationId: string;
  /** devices the broker knows (Mosquitto's password file lists them; aedes derives any) */
  readonly devices: readonly string[];
  stop(): Promise<void>;
}

const READING_WAIT_MS = 10_000;

export function mqttAccessContract(name: string, start: () => Promise<AccessTarget>): void {
  describe(`MQTT access contract: ${name}`, () => {
    let target: AccessTarget;
    const cleanups: (() => Promise<unknown>)[] = [];
    beforeAll(async () => {
      target = await start();
    });
    afterAll(async () => {
      await target?.stop();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const device = (i: number) => target.devices[i]!;
    const deviceCredentials = (i: number) => credentialsFor(target.secret, device(i));
    const ingestCredentials = () => credentialsFor(target.secret, ingestUsername(target.applicationId));
    const ingestClientId = (slot: string) => `${ingestClientIdPrefix(target.applicationId)}${slot}`;

    const connect = async (url: string, options: IClientOptions): Promise<MqttClient> => {
      const client = await mqtt.connectAsync(url, {
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        protocolVersion: target.protocolVersion,
        ...options,
      });
      cleanups.push(() => client.endAsync(true));
      return client;
    };
    /** the connection is refused, or closed right after it opened */
    const refused = async (url: string, options: IClientOptions): Promise<boolean> => {
      try {
        const client = await connect(url, options);
        await Bun.sleep(200);
        return !client.connected;
      } catch {
        return true;
      }
    };
    const ingest = async (slot = "a1b2c3"): Promise<{ subscriber: MqttSubscriber; topics: string[] }> => {
      const topics: string[] = [];
      const subscriber = createMqttSubscriber({
        url: target.serviceUrl,
        clientId: ingestClientId(slot),
        credentials: ingestCredentials(),
        protocolVersion: target.protocolVersion,
        topics: ["city/sensors/#"],
        onBatch: (batch) => {
          for (const message of batch) topics.push(`${message.topic} ${Buffer.from(message.payload)}`);
        },
      });
      await subscriber.start();
      cleanups.push(() => subscriber.stop());
      return { subscriber, topics };
    };
    const waitFor = async (seen: string[], entry: string) => {
      const deadline = Date.now() + READING_WAIT_MS;
      while (!seen.includes(entry)) {
        if (Date.now() > deadline) throw new Error(`"${entry}" never arrived; got ${seen.join(" | ")}`);
        await Bun.sleep(10);
      }
    };
    /** publish and wait for the broker's verdict: an ack, a refusal, or the connection closing */
    const publishVerdict = (client: MqttClient, topic: string, payload: string) =>
      new Promise<string>((resolve) => {
        client.once("close", () => resolve("closed"));
        client.publish(topic, payload, { qos: 1 }, (error) => resolve(error ? "refused" : "acked"));
      });

    test("a device's reading on its own topic reaches the ingest", async () => {
      const { topics } = await ingest();
      const sensor = await connect(target.deviceUrl, deviceCredentials(0));
      await sensor.publishAsync(`city/sensors/traffic/${device(0)}`, "own", { qos: 1 });
      await waitFor(topics, `city/sensors/traffic/${device(0)} own`);
    });

    test("a spoofed reading (one device publishing on another's topic) never reaches the ingest", async () => {
      const { topics } = await ingest();
      const spoofer = await connect(target.deviceUrl, deviceCredentials(0));
      await publishVerdict(spoofer, `city/sensors/traffic/${device(1)}`, "spoofed");
      // the broker judged the spoof before this marker was sent: it would have arrived first
      const honest = await connect(target.deviceUrl, deviceCredentials(1));
      await honest.publishAsync(`city/sensors/traffic/${device(1)}`, "marker", { qos: 1 });
      await waitFor(topics, `city/sensors/traffic/${device(1)} marker`);
      expect(topics.filter((t) => t.endsWith("spoofed"))).toEqual([]);
    });

    test("a device subscribed to # receives no reading", async () => {
      const { topics } = await ingest();
      const snoop = await connect(target.deviceUrl, deviceCredentials(0));
      const snooped: string[] = [];
      snoop.on("message", (topic) => snooped.push(topic));
      // aedes refuses the filter (SUBACK 0x80); Mosquitto grants it and checks each message
      await snoop.subscribeAsync("#", { qos: 1 }).catch(() => []);
      const sensor = await connect(target.deviceUrl, deviceCredentials(1));
      await sensor.publishAsync(`city/sensors/traffic/${device(1)}`, "private", { qos: 1 });
      await waitFor(topics, `city/sensors/traffic/${device(1)} private`);
      // the snoop's subscription (if any) was made before the reading: it would have had it by now
      await Bun.sleep(100);
      expect(snooped).toEqual([]);
    });

    test.each([
      ["no credentials", {}],
      ["a wrong password", { username: "traffic-x", password: "not-the-password" }],
      ["a device name with another device's password", { username: "someone-else", password: "x" }],
    ] as const)("a client with %s is refused", async (_, options) => {
      const opts = options as IClientOptions;
      expect(await refused(target.deviceUrl, opts)).toBe(true);
      expect(await refused(target.serviceUrl, opts)).toBe(true);
    });

    test("a device's credentials do not make it the ingest: it cannot subscribe to the readings", async () => {
      const { topics } = await ingest();
      const pretender = await connect(target.serviceUrl, { ...deviceCredentials(0) }).catch(() => undefined);
      const pretended: string[] = [];
      pretender?.on("message", (topic) => pretended.push(topic));
      await pretender?.subscribeAsync("city/sensors/#", { qos: 1 }).catch(() => []);
      const sensor = await connect(target.deviceUrl, deviceCredentials(1));
      await sensor.publishAsync(`city/sensors/traffic/${device(1)}`, "for-ingest", { qos: 1 });
      await waitFor(topics, `city/sensors/traffic/${device(1)} for-ingest`);
      await Bun.sleep(100);
      expect(pretended).toEqual([]);
    });

    test("connecting again and again with the ingest's client id does not cut the ingest off", async () => {
      const { subscriber, topics } = await ingest("takeover1");
      for (let attempt = 0; attempt < 20; attempt++) {
        for (const url of [target.deviceUrl, target.serviceUrl]) {
          const options = { clientId: ingestClientId("takeover1"), ...deviceCredentials(0) };
          const intruder = await mqtt
            .connectAsync(url, { reconnectPeriod: 0, protocolVersion: target.protocolVersion, ...options })
            .catch(() => undefined);
          await intruder?.endAsync(true);
        }
        const anonymous = await mqtt
          .connectAsync(target.deviceUrl, {
            reconnectPeriod: 0,
            protocolVersion: target.protocolVersion,
            clientId: ingestClientId("takeover1"),
          })
          .catch(() => undefined);
        await anonymous?.endAsync(true);
      }
      const sensor = await connect(target.deviceUrl, deviceCredentials(0));
      await sensor.publishAsync(`city/sensors/traffic/${device(0)}`, "after-attacks", { qos: 1 });
      await waitFor(topics, `city/sensors/traffic/${device(0)} after-attacks`);
      expect(subscriber.stats()).toMatchObject({ connected: true, disconnects: 0, reconnects: 0 });
    });

    test("the ingest's own credentials take its session over (another node's session rescue)", async () => {
      const { subscriber } = await ingest("rescued1");
      let closed = false;
      const rescuer = createMqttSubscriber({
        url: target.serviceUrl,
        clientId: ingestClientId("rescued1"),
        credentials: ingestCredentials(),
        protocolVersion: target.protocolVersion,
        cleanSession: false,
        reconnectPeriodMs: 0,
        topics: ["city/sensors/#"],
        onBatch: () => {},
      });
      await rescuer.start();
      cleanups.push(() => rescuer.stop());
      const deadline = Date.now() + READING_WAIT_MS;
      while (subscriber.stats().disconnects === 0 && Date.now() < deadline) await Bun.sleep(10);
      closed = subscriber.stats().disconnects > 0;
      expect(closed).toBe(true);
      expect(rescuer.stats().connected).toBe(true);
    });

    test("a gateway publishes for any sensor and may not subscribe to the readings", async () => {
      const { topics } = await ingest();
      const gateway = await connect(target.serviceUrl, {
        ...credentialsFor(target.secret, gatewayUsername("simulator")),
      });
      const heard: string[] = [];
      gateway.on("message", (topic) => heard.push(topic));
      await gateway.subscribeAsync("city/sensors/#", { qos: 1 }).catch(() => []);
      await gateway.publishAsync(`city/sensors/air/${device(1)}`, "via-gateway", { qos: 1 });
      await waitFor(topics, `city/sensors/air/${device(1)} via-gateway`);
      await Bun.sleep(100);
      expect(heard).toEqual([]);
    });
  });
}
