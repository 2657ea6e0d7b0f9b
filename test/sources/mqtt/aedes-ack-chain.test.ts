import { afterEach, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { AckChainOptions } from "../../../sources/mqtt/aedes-ack-chain.ts";
import { createAedesBroker } from "../../../sources/mqtt/aedes-broker.ts";
import { createAedesWorkerBroker } from "../../../sources/mqtt/aedes-worker-broker.ts";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";
import { type HeldAck, takeOverPubacks } from "../../../sources/mqtt/puback-control.ts";

/**
 * The embedded broker acknowledges a device's QoS 1 reading only once the node's ingest session
 * has acknowledged it (real aedes on loopback, mqtt.js clients). The ingest here is an mqtt.js
 * client whose PUBACKs the test holds and releases, as the real subscriber does until its append
 * is durable.
 */
const INGEST_ID = "app-ingest-1";
const READINGS = "city/sensors/traffic/t-1";
const WAIT_MS = 10_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBroker(
  chain: Partial<AckChainOptions> = {},
  make = createAedesBroker,
): Promise<MqttBroker> {
  const broker = make({ ackChain: { subscriberIdPrefix: "app-ingest-", ...chain } });
  await broker.start();
  cleanups.push(() => broker.stop());
  return broker;
}

async function connect(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 50, connectTimeout: WAIT_MS, ...options });
  cleanups.push(() => client.endAsync(true));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

interface HoldingIngest {
  readonly client: MqttClient;
  /** PUBACKs held, in arrival order, with the payload they acknowledge */
  readonly held: { ack: HeldAck; payload: string }[];
  /** messages received so far, copies included */
  arrivals(): number;
  /** resolves once `count` messages have arrived */
  received(count: number): Promise<void>;
  /** acknowledge the newest copy of `payload`; false when its connection is gone */
  release(payload: string): boolean;
}

/** a persistent-session subscriber that acknowledges only when the test says so */
async function holdingIngest(url: string, clientId = INGEST_ID, qos: 0 | 1 = 1): Promise<HoldingIngest> {
  const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 50, manualConnect: true });
  cleanups.push(() => client.endAsync(true));
  const loop = takeOverPubacks(
    client,
    () => false,
    () => {},
  );
  const held: { ack: HeldAck; payload: string }[] = [];
  let arrived = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  client.on("message", (_topic, payload, packet) => {
    arrived++;
    if (packet.qos > 0 && packet.messageId !== undefined)
      held.push({
        ack: { messageId: packet.messageId, connection: loop.connection() },
        payload: payload.toString(),
      });
    for (const w of waiters.filter((w) => arrived >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
    client.connect();
  });
  await client.subscribeAsync("city/sensors/#", { qos });
  return {
    client,
    held,
    arrivals: () => arrived,
    received: (count) =>
      within(
        `${count} messages at the ingest`,
        arrived >= count
          ? Promise.resolve()
          : new Promise<void>((resolve) => waiters.push({ count, resolve })),
      ),
    release(payload) {
      const index = held.findLastIndex((h) => h.payload === payload);
      if (index < 0) throw new Error(`the ingest holds no ack of ${payload}`);
      const [copy] = held.splice(index, 1);
      return loop.sendAck(copy!.ack);
    },
  };
}

/** a wait that fails, naming what never happened */
function within<T>(what: string, promise: Promise<T>, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** tracks whether a publish has been acknowledged */
function track(publish: Promise<unknown>): { readonly acked: boolean; readonly done: Promise<unknown> } {
  const state = { acked: false, done: publish };
  state.done = publish.then((value) => {
    state.acked = true;
    return value;
  });
  return state;
}

/**
 * The ingest acknowledges every copy it holds, and again whenever another copy arrives (a device
 * resends after its connection was closed), until all `publishes` are acknowledged.
 */
async function releaseUntilAcked(
  ingest: HoldingIngest,
  publishes: { readonly acked: boolean; readonly done: Promise<unknown> }[],
) {
  const all = Promise.all(publishes.map((p) => p.done));
  for (let round = 0; round < 50 && !publishes.every((p) => p.acked); round++) {
    const seen = ingest.arrivals();
    for (const h of [...ingest.held]) ingest.release(h.payload);
    await within(
      "another copy at the ingest or every PUBACK",
      Promise.race([ingest.received(seen + 1), all]),
    );
  }
  await within("every PUBACK", all);
}

/**
 * A SUBACK on the device's connection is written after anything aedes wrote for packets it had
 * handled before: once it is back, a PUBACK aedes sent at once would have arrived too.
 */
async function roundTrip(device: MqttClient): Promise<void> {
  await within("a SUBACK on the device's connection", device.subscribeAsync(`round-trip/${Math.random()}`));
}

describe("the embedded broker's acknowledgement chain", () => {
  test("a device's QoS 1 reading is acknowledged only after the ingest acknowledged it", async () => {
    const broker = await startBroker();
    const ingest = await holdingIngest(broker.url());
    const device = await connect(broker.url(), { clientId: "device-1" });

    const publish = track(device.publishAsync(READINGS, "r1", { qos: 1 }));
    await ingest.received(1);
    await roundTrip(device);
    expect(publish.acked).toBe(false);

    ingest.release("r1");
    await within("the device's PUBACK", publish.done);
    expect(publish.acked).toBe(true);
  });

  test.each([
    ["a QoS 0 publish", { topic: READINGS, qos: 0 as const, ingestQos: 1 as const }],
    ["a topic no ingest subscribed", { topic: "elsewhere/t-1", qos: 1 as const, ingestQos: 1 as const }],
    ["an ingest subscribed at QoS 0", { topic: READINGS, qos: 1 as const, ingestQos: 0 as const }],
  ])("%s is acknowledged at once, as aedes does", async (_name, c) => {
    const broker = await startBroker();
    await holdingIngest(broker.url(), INGEST_ID, c.ingestQos);
    const device = await connect(broker.url(), { clientId: "device-1" });
    await within("the publish's completion", device.publishAsync(c.topic, "r1", { qos: c.qos }));
  });

  test("a QoS 1 subscriber that is not an ingest session is not waited for", async () => {
    const broker = await startBroker();
    await holdingIngest(broker.url(), INGEST_ID, 0);
    // a dashboard with a persistent session that never acknowledges anything
    await holdingIngest(broker.url(), "dashboard-1");
    const device = await connect(broker.url(), { clientId: "device-1" });
    await within("the device's PUBACK", device.publishAsync(READINGS, "r1", { qos: 1 }));
  });

  test("acknowledgements leave in the order the readings arrived, each after its ingest ack", async () => {
    const broker = await startBroker();
    const ingest = await holdingIngest(broker.url());
    const device = await connect(broker.url(), { clientId: "device-1" });

    const first = track(device.publishAsync(READINGS, "r1", { qos: 1 }));
    const unrouted = track(device.publishAsync("elsewhere/t-1", "x", { qos: 1 }));
    const second = track(device.publishAsync(READINGS, "r2", { qos: 1 }));
    await ingest.received(2);
    await roundTrip(device);
    expect([first.acked, unrouted.acked, second.acked]).toEqual([false, false, false]);

    ingest.release("r2");
    await roundTrip(device);
    // r2 is acknowledged by the ingest, but r1 before it is not
    expect([first.acked, unrouted.acked, second.acked]).toEqual([false, false, false]);

    ingest.release("r1");
    await within("all three PUBACKs", Promise.all([first.done, unrouted.done, second.done]));
  });

  test("a reading queued while the ingest is away is acknowledged once the ingest is back and acks it", async () => {
    const broker = await startBroker();
    const away = await holdingIngest(broker.url());
    await away.client.endAsync();
    const device = await connect(broker.url(), { clientId: "device-1" });

    const publish = track(device.publishAsync(READINGS, "r1", { qos: 1 }));
    await roundTrip(device);
    expect(publish.acked).toBe(false);

    const back = await holdingIngest(broker.url());
    await back.received(1);
    expect(publish.acked).toBe(false);
    back.release("r1");
    await within("the device's PUBACK", publish.done);
  });

  test("an ingest that never acknowledges gets the device disconnected after the timeout, which then resends", async () => {
    const broker = await startBroker({ timeoutMs: 500 });
    const ingest = await holdingIngest(broker.url());
    const device = await connect(broker.url(), { clientId: "device-1" });
    let closes = 0;
    device.on("close", () => closes++);

    const publish = track(device.publishAsync(READINGS, "r1", { qos: 1 }));
    // the first copy, then the one resent after the broker closed the connection
    await ingest.received(2);
    expect(closes).toBeGreaterThanOrEqual(1);
    expect(publish.acked).toBe(false);
    expect(new Set(ingest.held.map((h) => h.payload))).toEqual(new Set(["r1"]));

    // only the copy on the device's current connection can be acknowledged to it
    await releaseUntilAcked(ingest, [publish]);
  });

  test("more readings waiting than the bound refuses the next one: its connection closes and it is resent", async () => {
    const broker = await startBroker({ maxPending: 1 });
    const ingest = await holdingIngest(broker.url());
    const device = await connect(broker.url(), { clientId: "device-1" });
    const closed = new Promise<void>((resolve) => device.once("close", () => resolve()));

    const first = track(device.publishAsync(READINGS, "r1", { qos: 1 }));
    await ingest.received(1);
    const second = track(device.publishAsync(READINGS, "r2", { qos: 1 }));
    await within("the refused publish's connection to close", closed);
    expect([first.acked, second.acked]).toEqual([false, false]);
    expect(ingest.held.map((h) => h.payload)).toEqual(["r1"]);

    // the device resends both after its reconnect; once the ingest acknowledges, both go through
    await releaseUntilAcked(ingest, [first, second]);
  });

  test("a fresh broker answers a device's CONNECT only once the ingest has subscribed", async () => {
    const broker = await startBroker();
    const device = mqtt.connect(broker.url(), { clientId: "device-1", reconnectPeriod: 50 });
    cleanups.push(() => device.endAsync(true));
    const connected = within(
      "the device's CONNACK",
      new Promise<void>((resolve) => device.once("connect", () => resolve())),
    );
    // a negative check is a bounded look: a slow machine can make it prove less, never fail it
    await Bun.sleep(300);
    expect(device.connected).toBe(false);

    await holdingIngest(broker.url());
    await connected;
  });

  test("the worker-thread broker (the node's default) chains acknowledgements too", async () => {
    const broker = await startBroker({}, createAedesWorkerBroker);
    const ingest = await holdingIngest(broker.url());
    const device = await connect(broker.url(), { clientId: "device-1" });

    const publish = track(device.publishAsync(READINGS, "r1", { qos: 1 }));
    await ingest.received(1);
    await roundTrip(device);
    expect(publish.acked).toBe(false);
    ingest.release("r1");
    await within("the device's PUBACK", publish.done);
  });
});
