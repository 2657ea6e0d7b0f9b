import { afterEach, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";
import type {
  MqttSubscriber,
  MqttSubscriberOptions,
  RawMqttMessage,
} from "../../../sources/mqtt/mqtt-subscriber.ts";

/**
 * The conformance suite of the ingest's MQTT subscriber port (mqtt-subscriber.ts' interface),
 * run against both adapters: the TCP subscriber (any broker, on the thread that starts it) and
 * the embedded broker's own-thread subscriber (aedes-thread-subscriber.ts, the node's default).
 */
export interface SubscriberSetup {
  /** a started broker the suite publishes to */
  startBroker(): Promise<MqttBroker>;
  /** a subscriber of that broker (not started) */
  subscriber(broker: MqttBroker, options: Omit<MqttSubscriberOptions, "url">): MqttSubscriber;
}

export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

export function mqttSubscriberContract(name: string, setup: SubscriberSetup): void {
  describe(`MQTT subscriber contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    const startBroker = async () => {
      const broker = await setup.startBroker();
      cleanups.push(() => broker.stop());
      return broker;
    };
    const publisher = async (url: string): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
      cleanups.push(() => c.endAsync(true));
      return c;
    };
    const subscriberOn = (broker: MqttBroker, options: Omit<MqttSubscriberOptions, "url">) =>
      setup.subscriber(broker, options);
    const track = (s: MqttSubscriber): MqttSubscriber => {
      // stopped before the broker (cleanups run in reverse)
      cleanups.push(() => s.stop());
      return s;
    };

    test("hands every message to the consumer in batches no larger than maxBatch", async () => {
      const broker = await startBroker();
      const got: RawMqttMessage[] = [];
      const sizes: number[] = [];
      const sub = track(
        subscriberOn(broker, {
          maxBatch: 100,
          onBatch: (b) => {
            sizes.push(b.length);
            got.push(...b);
          },
        }),
      );
      await sub.start();
      const pub = await publisher(broker.url());
      for (let i = 0; i < 2000; i++) pub.publish(`city/sensors/traffic/t${i % 7}`, String(i), { qos: 0 });
      await until(() => got.length === 2000);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
      expect(sizes.length).toBeLessThan(2000);
      expect(new Set(got.map((m) => m.payload.toString())).size).toBe(2000);
      await until(() => sub.stats().delivered === 2000);
      expect(sub.stats()).toMatchObject({ received: 2000, delivered: 2000, buffered: 0 });
    });

    // regression: batches of at most 500 capped the ingest at 500 readings a turn of the event loop
    // (one append in flight, resolved at the log's commit a turn later); at 20k readings/s a node's
    // backlog behind one slow turn never drained
    test("by default a backlog of 2,000 messages goes to the consumer in one batch", async () => {
      const broker = await startBroker();
      const sizes: number[] = [];
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const sub = track(
        subscriberOn(broker, {
          onBatch: async (b) => {
            sizes.push(b.length);
            if (sizes.length === 1) await held;
          },
        }),
      );
      await sub.start();
      const pub = await publisher(broker.url());
      pub.publish("city/sensors/traffic/first", "0", { qos: 0 });
      await until(() => sizes.length === 1);
      for (let i = 1; i <= 2000; i++) pub.publish(`city/sensors/traffic/t${i % 7}`, String(i), { qos: 0 });
      await until(() => sub.stats().received === 2001);
      release();
      await until(() => sub.stats().delivered === 2001);
      expect(sizes).toEqual([1, 2000]);
    });

    test("a slow consumer pauses the client at maxBuffered and everything arrives once it catches up", async () => {
      const broker = await startBroker();
      let open = false;
      const got: RawMqttMessage[] = [];
      let maxBuffered = 0;
      const sub = track(
        subscriberOn(broker, {
          qos: 1,
          maxBatch: 50,
          maxBuffered: 200,
          onBatch: async (b) => {
            while (!open) await Bun.sleep(5);
            got.push(...b);
          },
        }),
      );
      await sub.start();
      const pub = await publisher(broker.url());
      const sent = Array.from({ length: 1000 }, (_, i) =>
        pub.publishAsync(`city/sensors/utility/u${i % 3}`, String(i), { qos: 1 }),
      );
      await until(() => sub.stats().paused);
      for (let i = 0; i < 20; i++) {
        maxBuffered = Math.max(maxBuffered, sub.stats().buffered);
        await Bun.sleep(5);
      }
      // paused: the client holds the ack, reads no further, and the buffer stays bounded
      expect(maxBuffered).toBeLessThanOrEqual(200);
      expect(sub.stats().received).toBeLessThan(1000);
      open = true;
      await Promise.all(sent);
      await until(() => got.length === 1000);
      expect(sub.stats().pauses).toBeGreaterThan(0);
      expect(got.map((m) => Number(m.payload.toString())).sort((a, b) => a - b)).toEqual([
        ...Array(1000).keys(),
      ]);
    });

    test("a stop while paused under a QoS 0 flood hands over what it buffered and ends within its deadline", async () => {
      // regression: paused at maxBuffered, the client read no further, so its socket never saw the
      // broker's end behind the unread flood; the DISCONNECT's close never came and a node's stop
      // under 20k readings/s waited for ever (killed by its wrapper at 60 s)
      const broker = await startBroker();
      let open = false;
      const got: RawMqttMessage[] = [];
      const sub = subscriberOn(broker, {
        qos: 0,
        maxBatch: 50,
        maxBuffered: 100,
        onBatch: async (b) => {
          while (!open) await Bun.sleep(5);
          got.push(...b);
        },
      });
      await sub.start();
      const pub = await publisher(broker.url());
      // far more than the socket buffers between broker and client hold
      const payload = "x".repeat(1024);
      for (let i = 0; i < 30_000; i++) pub.publish(`city/sensors/traffic/f${i % 5}`, payload, { qos: 0 });
      await until(() => sub.stats().paused);
      await Bun.sleep(200);
      const buffered = sub.stats().buffered;
      expect(buffered).toBeGreaterThan(0);
      const started = performance.now();
      const stopping = sub.stop();
      open = true;
      await stopping;
      expect(performance.now() - started).toBeLessThan(5_000);
      // what was buffered at the stop reached the consumer; nothing after the stop did
      expect(got.length).toBeGreaterThanOrEqual(buffered);
      expect(got.length).toBe(sub.stats().delivered);
      expect(sub.stats().connected).toBe(false);
    }, 30_000);

    test("a failing batch is reported, stays unacknowledged, and is retried until the consumer takes it", async () => {
      const broker = await startBroker();
      const errors: unknown[] = [];
      let calls = 0;
      const delivered: string[] = [];
      const sub = track(
        subscriberOn(broker, {
          onBatch: (b) => {
            calls++;
            if (calls <= 2) throw new Error("consumer broke");
            delivered.push(...b.map((m) => m.payload.toString()));
          },
          onError: (e) => errors.push(e),
        }),
      );
      await sub.start();
      const pub = await publisher(broker.url());
      await pub.publishAsync("city/sensors/traffic/a", "1", { qos: 1 });
      await until(() => errors.length === 2);
      expect(sub.stats()).toMatchObject({ acknowledged: 0, buffered: 1 });
      await until(() => delivered.length === 1);
      await pub.publishAsync("city/sensors/traffic/a", "2", { qos: 1 });
      await until(() => delivered.length === 2);
      expect(delivered).toEqual(["1", "2"]);
      await until(() => sub.stats().acknowledged === 2);
      expect(sub.stats()).toMatchObject({ consumerFailures: 2, acknowledged: 2, buffered: 0 });
    });
  });
}
