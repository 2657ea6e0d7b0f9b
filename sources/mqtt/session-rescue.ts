import mqtt, { type MqttClient } from "mqtt";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { MqttCredentials } from "./mqtt-credentials.ts";
import type { MqttSubscriber } from "./mqtt-subscriber.ts";

/**
 * Rescue of a dead node's MQTT session, so that nothing the broker accepted waits for a node that
 * may never come back.
 *
 * The nodes of an application share the readings through one MQTT shared subscription, each with
 * its own persistent session (QoS 1 readings are queued for a node while it restarts). Mosquitto
 * keeps giving an offline persistent member its share, and drops the messages in flight to a
 * member whose session ends (eclipse-mosquitto/mosquitto#2662): a node killed with -9 would
 * strand its share, or lose it with a clean session. So each ingest session carries a will on
 * `<prefix>/<clientId>` ("gone"), which the broker publishes the moment the connection dies; a
 * node that stops on purpose publishes the same itself. Every other node watches `<prefix>/+`
 * and, on "gone", connects with the dead node's client id and the same persistent session: it
 * receives what was queued and in flight (redelivered, since it was never acknowledged), ingests
 * it like its own, and keeps consuming that share until the owner comes back and takes its
 * session over (the broker then closes the rescuer, which does not reconnect).
 */
export interface SessionRescue {
  start(): Promise<void>;
  /** client ids whose sessions this node is consuming for a peer */
  rescued(): string[];
  /** tell the other nodes that this session has nobody now (a graceful stop) */
  announceGone(clientId: string): Promise<void>;
  /** hand the rescued sessions back to the application (drained, acknowledged, announced) */
  stop(): Promise<void>;
}

export interface SessionRescueOptions {
  readonly url: string;
  /** status topics live under here, one per ingest client id */
  readonly prefix: string;
  /** this node's own ingest client id (never rescued by itself) */
  readonly ownClientId: string;
  /** the ingest's credentials: the status topics are the ingest's alone */
  readonly credentials?: MqttCredentials;
  /** a subscriber on the dead node's session: its client id, persistent, no reconnects */
  readonly subscriberFor: (clientId: string, onClosed: () => void) => MqttSubscriber;
  readonly onRescued?: (clientId: string) => void;
  readonly onError?: (error: PlatformError) => void;
}

export const GONE = "gone";

export function createSessionRescue(options: SessionRescueOptions): SessionRescue {
  let watcher: MqttClient | undefined;
  const rescuing = new Map<string, MqttSubscriber>();
  let stopping = false;

  const rescue = (clientId: string) => {
    if (stopping || clientId === options.ownClientId || rescuing.has(clientId)) return;
    const subscriber = options.subscriberFor(clientId, () => {
      // the owner is back and took its session over
      if (rescuing.get(clientId) === subscriber) rescuing.delete(clientId);
    });
    rescuing.set(clientId, subscriber);
    subscriber.start().then(
      () => options.onRescued?.(clientId),
      (cause: unknown) => {
        rescuing.delete(clientId);
        options.onError?.(
          new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `cannot rescue the MQTT session ${clientId}`, {
            cause,
          }),
        );
      },
    );
  };

  return {
    async start() {
      const client = mqtt.connect(options.url, {
        clean: true,
        reconnectPeriod: 1000,
        manualConnect: true,
        ...(options.credentials ?? {}),
      });
      client.on("message", (topic, payload) => {
        const clientId = topic.slice(options.prefix.length + 1);
        if (clientId.length > 0 && !clientId.includes("/") && payload.toString() === GONE) rescue(clientId);
      });
      client.on("error", (cause) =>
        options.onError?.(
          new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "MQTT session watcher error", { cause }),
        ),
      );
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
        client.connect();
      });
      await client.subscribeAsync(`${options.prefix}/+`, { qos: 1 });
      watcher = client;
    },
    rescued: () => [...rescuing.keys()],
    async announceGone(clientId) {
      await watcher?.publishAsync(`${options.prefix}/${clientId}`, GONE, { qos: 1 });
    },
    async stop() {
      stopping = true;
      for (const [clientId, subscriber] of [...rescuing]) {
        rescuing.delete(clientId);
        await subscriber.stop();
        // another node takes it from here
        await watcher?.publishAsync(`${options.prefix}/${clientId}`, GONE, { qos: 1 });
      }
      await watcher?.endAsync();
      watcher = undefined;
    },
  };
}
