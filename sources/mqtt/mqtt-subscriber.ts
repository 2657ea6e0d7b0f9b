import { setTimeout as sleep } from "node:timers/promises";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { BoundedMap } from "../../messages/bounded-map.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { MqttCredentials } from "./mqtt-credentials.ts";
import { type HeldAck, type PacketLoop, takeOverPubacks } from "./puback-control.ts";

/**
 * The ingest side of MQTT: subscribes, collects raw (topic, payload) messages into batches and
 * hands them to one consumer callback, one batch at a time.
 *
 * Acknowledgement: a QoS 1 message is PUBACKed only after the consumer's promise for the batch
 * holding it has resolved, i.e. after the ingest has made it durable. Until then the broker
 * keeps it and redelivers it on the next connection of the same session (clean=false), so a
 * crash between receipt and append loses nothing the broker acknowledged. mqtt.js would send
 * the PUBACK as soon as `handleMessage` calls back and would read nothing more until then;
 * `puback-control.ts` separates the two so that many messages can wait for one append.
 *
 * A failed batch is retried (back-off up to 5 s) and stays unacknowledged meanwhile; while
 * stopping it is abandoned instead, still unacknowledged, for the broker to redeliver.
 *
 * Back-pressure: when `maxBuffered` messages are received but not yet acknowledged, the client
 * stops reading the socket: TCP fills up, the broker stops sending, and memory is bounded by
 * `maxBuffered` plus one socket read (a broker also caps unacknowledged QoS 1 deliveries per
 * client: Mosquitto's max_inflight_messages, MQTT 5's Receive Maximum).
 *
 * A message redelivered on a new connection (DUP) is not delivered twice when its first copy is
 * still waiting for its append (the acknowledgement moves to the new connection) or was appended
 * while its connection closed (it is acknowledged at once). Redeliveries after a crash of the
 * process cannot be recognised here; the sensor actor drops a repeated (sensor, event time).
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
  /** username and password (the ingest's: mqtt-credentials.ts); none connects anonymously */
  readonly credentials?: MqttCredentials;
  /** false with a stable clientId keeps QoS 1 messages queued at the broker while the node is away */
  readonly cleanSession?: boolean;
  /** default 4 (MQTT 3.1.1, what aedes speaks); 5 adds the limits below */
  readonly protocolVersion?: 4 | 5;
  /** MQTT 5: how long the broker keeps a persistent session after a disconnect; default 1 day */
  readonly sessionExpirySeconds?: number;
  /** MQTT 5: the broker must not send larger packets (it drops them for this client) */
  readonly maxPacketBytes?: number;
  /** default 2,000 (DEFAULT_MAX_BATCH) */
  readonly maxBatch?: number;
  /** received but not yet acknowledged; default 10,000 */
  readonly maxBuffered?: number;
  /** wait this long for a batch to fill; default 0 (next turn of the event loop) */
  readonly lingerMs?: number;
  /** default 1000; 0 disables reconnecting */
  readonly reconnectPeriodMs?: number;
  /** default 10,000 */
  readonly connectTimeoutMs?: number;
  /** how long stop() waits for the broker to close after the DISCONNECT before it drops the socket; default 2,000 */
  readonly closeTimeoutMs?: number;
  readonly clock?: () => number;
  /** the consumer; its promise resolving means durable: the batch's QoS 1 messages are acked then */
  readonly onBatch: (batch: RawMqttMessage[]) => Promise<void> | void;
  /** connection errors and consumer failures; the subscriber keeps running */
  readonly onError?: (error: PlatformError) => void;
  /**
   * the broker publishes this if the connection ends without a DISCONNECT (the process died):
   * the application's other nodes learn at once that this session needs rescuing
   */
  readonly will?: { readonly topic: string; readonly payload: string };
  /**
   * the connection closed for good after a successful start (no reconnects configured): the
   * broker ended it, e.g. another client took the session over
   */
  readonly onClosed?: () => void;
}

export interface MqttSubscriberStats {
  /** the connection to the broker is up */
  readonly connected: boolean;
  readonly received: number;
  readonly delivered: number;
  readonly batches: number;
  /** QoS 1 messages PUBACKed (after their batch was durable) */
  readonly acknowledged: number;
  /** acknowledgements not sent because their connection had closed (the broker redelivers) */
  readonly acksLost: number;
  /** redelivered messages folded into their first copy instead of delivered again */
  readonly redeliveriesMerged: number;
  /** received and not yet acknowledged (buffered or in the consumer) */
  readonly buffered: number;
  readonly paused: boolean;
  readonly pauses: number;
  readonly reconnects: number;
  /** connections that closed while the subscriber was running (broker gone, session taken over) */
  readonly disconnects: number;
  readonly consumerFailures: number;
}

/** the subscriber's running counts before anything happened */
const ZERO_COUNTS = {
  received: 0,
  delivered: 0,
  batches: 0,
  acknowledged: 0,
  acksLost: 0,
  redeliveriesMerged: 0,
  pauses: 0,
  reconnects: 0,
  disconnects: 0,
  consumerFailures: 0,
};

/** what a subscriber that has not started (or whose thread has not answered yet) reports */
export const SUBSCRIBER_NOT_STARTED: MqttSubscriberStats = {
  ...ZERO_COUNTS,
  connected: false,
  buffered: 0,
  paused: false,
};

export interface MqttSubscriber {
  /** connect and subscribe; rejects with INFRA_UNAVAILABLE when the broker cannot be reached */
  start(): Promise<void>;
  /**
   * Stop reading, hand what was received to the consumer, acknowledge it, disconnect. The
   * subscription stays in a persistent session: what is published meanwhile waits at the broker.
   */
  stop(): Promise<void>;
  stats(): MqttSubscriberStats;
}

interface Received {
  readonly message: RawMqttMessage;
  /** QoS 1: the id to acknowledge and the connection it must go out on */
  ack: HeldAck | undefined;
}

const DAY_SECONDS = 86_400;
/**
 * A batch is what arrived since the last hand-over, up to this many. The ingest appends one
 * batch at a time and its append resolves at the log's group commit on a later turn of the event
 * loop, so maxBatch x turns a second is the ingest's ceiling whatever the CPU: at 500, a node at
 * 20k readings/s turning ~40-50 times a second on a busy machine was at its ceiling, and a backlog
 * left by one slow turn (a GC pause, a lake write) never drained (seen with a stage probe: the
 * readings waited at this buffer, paused at maxBuffered, 0.5-0.9 s, the main thread 66 % busy).
 * With more per batch a backlog goes in a few turns; at a steady rate a batch stays what one
 * turn brings.
 */
const DEFAULT_MAX_BATCH = 2_000;
const MAX_RETRY_DELAY_MS = 5_000;

export function createMqttSubscriber(options: MqttSubscriberOptions): MqttSubscriber {
  const topics = options.topics ?? ["city/sensors/#"];
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBuffered = options.maxBuffered ?? 10_000;
  const lingerMs = options.lingerMs ?? 0;
  const clock = options.clock ?? Date.now;
  const reportError = (error: PlatformError) => options.onError?.(error);

  let client: MqttClient | undefined;
  let loop: PacketLoop | undefined;
  let buffer: Received[] = [];
  /** QoS 1 messages received and not yet acknowledged, by message id (for DUP redeliveries) */
  const unacked = new Map<number, Received>();
  /** appended, but their connection closed before the PUBACK: the broker will redeliver them */
  const appendedUnacked = new BoundedMap<number, RawMqttMessage>(maxBuffered);
  let pending = 0;
  let closing = false;
  /**
   * stopping, after the hand-over: what still arrives is read and not taken, so the socket
   * reaches the broker's close behind it (a paused client never read that far)
   */
  let discarding = false;
  let draining: Promise<void> | undefined;
  let drainScheduled = false;
  const counts = { ...ZERO_COUNTS };

  const mustPause = () => (closing && !discarding) || pending >= maxBuffered;

  function onMessage(packet: IPublishPacket, callback: (error?: Error) => void): void {
    // stopping: not taken and never acknowledged (QoS 1: the broker redelivers it to the
    // session's next connection; QoS 0 is at most once); the packet loop waits until the
    // hand-over is done, then reads on to the close (the PUBACK mqtt.js writes for a QoS 1
    // message is swallowed by puback-control.ts; only `acknowledge` writes real ones)
    if (discarding) {
      callback();
      return;
    }
    if (closing || !loop) {
      loop?.pace(callback, true);
      return;
    }
    const connection = loop.connection();
    if (packet.dup && packet.qos > 0 && packet.messageId !== undefined) {
      const messageId = packet.messageId;
      const first = unacked.get(messageId);
      if (first && sameMessage(first.message, packet)) {
        first.ack = { messageId, connection };
        counts.redeliveriesMerged++;
        callback();
        return;
      }
      const appended = appendedUnacked.get(messageId);
      if (appended && sameMessage(appended, packet)) {
        appendedUnacked.delete(messageId);
        counts.redeliveriesMerged++;
        if (loop.sendAck({ messageId, connection })) counts.acknowledged++;
        callback();
        return;
      }
    }
    const payload =
      typeof packet.payload === "string" ? new TextEncoder().encode(packet.payload) : packet.payload;
    const entry: Received = {
      message: { topic: packet.topic, payload, qos: packet.qos, receivedAt: clock() },
      ack:
        packet.qos > 0 && packet.messageId !== undefined
          ? { messageId: packet.messageId, connection }
          : undefined,
    };
    if (entry.ack) unacked.set(entry.ack.messageId, entry);
    buffer.push(entry);
    pending++;
    counts.received++;
    // QoS 1: mqtt.js turns the callback into a PUBACK, which puback-control holds and paces;
    // QoS 0 has no PUBACK, so the callback itself is the next read
    if (packet.qos > 0) callback();
    else loop.pace(callback, mustPause());
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
    let failures = 0;
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      try {
        await options.onBatch(batch.map((r) => r.message));
        failures = 0;
        buffer = buffer.slice(batch.length);
        counts.delivered += batch.length;
        counts.batches++;
        for (const received of batch) acknowledge(received);
      } catch (error) {
        failures++;
        counts.consumerFailures++;
        reportError(
          new PlatformError(
            ErrorCodes.INFRA_UNAVAILABLE,
            `MQTT batch consumer failed on ${batch.length} messages (attempt ${failures}); they stay unacknowledged`,
            { cause: error },
          ),
        );
        if (closing) {
          // the broker keeps them for the session's next connection
          buffer = buffer.slice(batch.length);
          for (const received of batch) forget(received);
        } else {
          await sleep(Math.min(MAX_RETRY_DELAY_MS, 50 * 2 ** Math.min(failures, 7)));
        }
      }
      if (!mustPause()) loop?.resume();
    }
  }

  function acknowledge(received: Received): void {
    forget(received);
    if (!received.ack) return;
    if (loop?.sendAck(received.ack)) {
      counts.acknowledged++;
      return;
    }
    counts.acksLost++;
    // bounded: the oldest go first (a broker redelivers right after the reconnect)
    appendedUnacked.setNewest(received.ack.messageId, received.message);
  }

  function forget(received: Received): void {
    pending--;
    if (received.ack && unacked.get(received.ack.messageId) === received)
      unacked.delete(received.ack.messageId);
  }

  return {
    async start() {
      if (client) return;
      closing = false;
      discarding = false;
      const version = options.protocolVersion ?? 4;
      const clean = options.cleanSession ?? true;
      const clientOptions: IClientOptions = {
        protocolVersion: version,
        clean,
        reconnectPeriod: options.reconnectPeriodMs ?? 1000,
        connectTimeout: options.connectTimeoutMs ?? 10_000,
        // a persistent session keeps the subscription at the broker; resubscribing is harmless
        resubscribe: true,
        ...(options.clientId ? { clientId: options.clientId } : {}),
        ...(options.credentials
          ? { username: options.credentials.username, password: options.credentials.password }
          : {}),
        ...(options.will ? { will: { ...options.will, qos: 1 as const, retain: false } } : {}),
        ...(version === 5
          ? {
              properties: {
                ...(clean ? {} : { sessionExpiryInterval: options.sessionExpirySeconds ?? DAY_SECONDS }),
                ...(options.maxPacketBytes ? { maximumPacketSize: options.maxPacketBytes } : {}),
                receiveMaximum: Math.min(65_535, maxBuffered),
              },
            }
          : {}),
      };
      const c = mqtt.connect(options.url, { ...clientOptions, manualConnect: true });
      c.handleMessage = onMessage;
      loop = takeOverPubacks(c, mustPause, () => counts.pauses++);
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
        loop = undefined;
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
      c.on("close", () => {
        if (client === c) counts.disconnects++;
      });
      if (clientOptions.reconnectPeriod === 0)
        c.once("close", () => {
          if (client !== c) return; // stopped on purpose
          client = undefined;
          loop = undefined;
          options.onClosed?.();
        });
    },
    async stop() {
      const c = client;
      client = undefined;
      if (!c) return;
      // read no further (no unsubscribe: a persistent session keeps queueing for the next start),
      // then hand over and acknowledge what was received
      closing = true;
      while (draining || buffer.length > 0) await startDrain();
      discarding = true;
      loop?.resume();
      // DISCONNECT goes out after the PUBACKs written above; a broker that does not close in
      // time (still flushing a flood at us) is cut off: nothing unacknowledged is lost by that
      const closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const closed = await Promise.race([
        c.endAsync().then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), closeTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!closed) await c.endAsync(true);
      loop = undefined;
    },
    stats: () => ({
      ...counts,
      connected: client?.connected ?? false,
      buffered: pending,
      paused: loop?.paused() ?? false,
    }),
  };
}

function sameMessage(first: RawMqttMessage, again: IPublishPacket): boolean {
  const payload = typeof again.payload === "string" ? new TextEncoder().encode(again.payload) : again.payload;
  return first.topic === again.topic && Buffer.compare(first.payload, payload) === 0;
}

export function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparseable MQTT URL)";
  }
}
