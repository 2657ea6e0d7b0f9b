import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The ingest side of MQTT: subscribes, collects raw (topic, payload) messages into batches and
 * hands them to one consumer callback, one batch at a time.
 *
 * Back-pressure: mqtt.js reads the next packet from the socket only after `handleMessage`'s
 * callback runs, and sends a QoS 1 PUBACK only then (mqtt.js README, "handleMessage"). When
 * `maxBuffered` messages wait for the consumer, the callback is held: the client stops reading,
 * TCP fills up, the broker stops sending, and QoS 1 messages stay un-acked (the broker keeps
 * them for redelivery). Memory is bounded by `maxBuffered` plus one socket read.
 */
export interface RawMqttMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1 | 2;
  readonly receivedAt: number;
}

export interface MqttSubscriberOptions {
  readonly url: string;
  /** default ["city/sensors/#"] */
  readonly topics?: readonly string[];
  /** subscription QoS; default 1 (a QoS 0 publish still arrives at QoS 0) */
  readonly qos?: 0 | 1;
  readonly clientId?: string;
  /** false with a fixed clientId keeps QoS 1 messages queued at the broker across reconnects */
  readonly cleanSession?: boolean;
  /** default 500 */
  readonly maxBatch?: number;
  /** default 10,000 */
  readonly maxBuffered?: number;
  /** wait this long for a batch to fill; default 0 (next turn of the event loop) */
  readonly lingerMs?: number;
  /** default 1000; 0 disables reconnecting */
  readonly reconnectPeriodMs?: number;
  /** default 10,000 */
  readonly connectTimeoutMs?: number;
  readonly clock?: () => number;
  /** the consumer; the next batch waits for its promise */
  readonly onBatch: (batch: RawMqttMessage[]) => Promise<void> | void;
  /** connection errors and consumer failures; the subscriber keeps running */
  readonly onError?: (error: PlatformError) => void;
}

export interface MqttSubscriberStats {
  readonly received: number;
  readonly delivered: number;
  readonly batches: number;
  readonly buffered: number;
  readonly paused: boolean;
  readonly pauses: number;
  readonly reconnects: number;
  readonly consumerFailures: number;
}

export interface MqttSubscriber {
  /** connect and subscribe; rejects with INFRA_UNAVAILABLE when the broker cannot be reached */
  start(): Promise<void>;
  /** hand over what is buffered, then disconnect */
  stop(): Promise<void>;
  stats(): MqttSubscriberStats;
}

export function createMqttSubscriber(options: MqttSubscriberOptions): MqttSubscriber {
  const topics = options.topics ?? ["city/sensors/#"];
  const maxBatch = options.maxBatch ?? 500;
  const maxBuffered = options.maxBuffered ?? 10_000;
  const lingerMs = options.lingerMs ?? 0;
  const clock = options.clock ?? Date.now;
  const reportError = (error: PlatformError) => options.onError?.(error);

  let client: MqttClient | undefined;
  let buffer: RawMqttMessage[] = [];
  let heldAck: (() => void) | undefined;
  let draining: Promise<void> | undefined;
  let drainScheduled = false;
  const counts = { received: 0, delivered: 0, batches: 0, pauses: 0, reconnects: 0, consumerFailures: 0 };

  function onMessage(packet: IPublishPacket, ack: (error?: Error) => void): void {
    const payload =
      typeof packet.payload === "string" ? new TextEncoder().encode(packet.payload) : packet.payload;
    buffer.push({ topic: packet.topic, payload, qos: packet.qos, receivedAt: clock() });
    counts.received++;
    if (buffer.length >= maxBuffered) {
      counts.pauses++;
      heldAck = () => ack();
    } else {
      ack();
    }
    scheduleDrain(buffer.length >= maxBatch);
  }

  function scheduleDrain(now: boolean): void {
    if (draining || drainScheduled) return;
    drainScheduled = true;
    const run = () => {
      drainScheduled = false;
      void startDrain();
    };
    if (now || lingerMs === 0) setImmediate(run);
    else setTimeout(run, lingerMs);
  }

  /** at most one drain runs; its promise never rejects (consumer failures are reported) */
  function startDrain(): Promise<void> {
    draining ??= drain().finally(() => {
      draining = undefined;
      if (buffer.length > 0) scheduleDrain(true);
    });
    return draining;
  }

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      let batch: RawMqttMessage[];
      if (buffer.length <= maxBatch) {
        batch = buffer;
        buffer = [];
      } else {
        batch = buffer.slice(0, maxBatch);
        buffer = buffer.slice(maxBatch);
      }
      try {
        await options.onBatch(batch);
        counts.delivered += batch.length;
        counts.batches++;
      } catch (error) {
        counts.consumerFailures++;
        reportError(
          new PlatformError(
            ErrorCodes.INFRA_UNAVAILABLE,
            `MQTT batch consumer failed on ${batch.length} messages`,
            {
              cause: error,
            },
          ),
        );
      }
      if (heldAck && buffer.length < maxBuffered) {
        const release = heldAck;
        heldAck = undefined;
        release();
      }
    }
  }

  return {
    async start() {
      if (client) return;
      const clientOptions: IClientOptions = {
        clean: options.cleanSession ?? true,
        reconnectPeriod: options.reconnectPeriodMs ?? 1000,
        connectTimeout: options.connectTimeoutMs ?? 10_000,
        resubscribe: true,
        ...(options.clientId ? { clientId: options.clientId } : {}),
      };
      const c = mqtt.connect(options.url, { ...clientOptions, manualConnect: true });
      c.handleMessage = onMessage;
      c.on("reconnect", () => counts.reconnects++);
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no CONNACK within ${clientOptions.connectTimeout} ms`)),
            clientOptions.connectTimeout,
          );
          c.once("connect", () => {
            clearTimeout(timer);
            resolve();
          });
          c.once("error", (error) => {
            clearTimeout(timer);
            reject(error);
          });
          // mqtt.js reports a refused socket as a close, not an error; without reconnects it is final
          if (clientOptions.reconnectPeriod === 0) {
            c.once("close", () => {
              clearTimeout(timer);
              reject(new Error("connection closed before CONNACK"));
            });
          }
          c.connect();
        });
        const granted = await c.subscribeAsync([...topics], { qos: options.qos ?? 1 });
        const refused = granted.filter((g) => g.qos === 128);
        if (refused.length > 0)
          throw new Error(`subscription refused for ${refused.map((g) => g.topic).join(", ")}`);
      } catch (error) {
        await c.endAsync(true);
        // the URL may carry credentials: name only host and port
        const where = safeHost(options.url);
        throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `MQTT subscriber cannot connect to ${where}`, {
          cause: error,
        });
      }
      c.on("error", (error) =>
        reportError(
          new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "MQTT subscriber connection error", {
            cause: error,
          }),
        ),
      );
      client = c;
    },
    async stop() {
      const c = client;
      client = undefined;
      if (!c) return;
      // stop taking new messages first, then hand over what is buffered
      await c
        .unsubscribeAsync([...topics])
        .catch((error: unknown) =>
          reportError(
            new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "MQTT unsubscribe failed", { cause: error }),
          ),
        );
      heldAck?.();
      heldAck = undefined;
      while (draining || buffer.length > 0) await startDrain();
      await c.endAsync();
    },
    stats: () => ({ ...counts, buffered: buffer.length, paused: heldAck !== undefined }),
  };
}

export function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparseable MQTT URL)";
  }
}
