import { type IngestMessage, ingestProps } from "../actors/ingest.ts";
import type { StopBudget } from "../engine/stop-deadline.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { Topics } from "../messages/topics.ts";
import { parseSensorMessage } from "../sources/iot/ingest-parser.ts";
import { createLlmReadingGenerator, llmBlendedFleet } from "../sources/iot/llm-generator.ts";
import type { SensorFleet } from "../sources/iot/sensor-fleet.ts";
import { createSensorPublisher, type SensorPublisher } from "../sources/iot/sensor-publisher.ts";
import { type AedesWorkerBroker, createAedesWorkerBroker } from "../sources/mqtt/aedes-worker-broker.ts";
import { claimClientId, ingestClientIdPrefix } from "../sources/mqtt/client-identity.ts";
import { createExternalBroker } from "../sources/mqtt/external-broker.ts";
import { mqttAuthFromEnv } from "../sources/mqtt/mqtt-auth-config.ts";
import type { MqttBroker } from "../sources/mqtt/mqtt-broker.ts";
import {
  createMqttSubscriber,
  type MqttSubscriber,
  type MqttSubscriberOptions,
} from "../sources/mqtt/mqtt-subscriber.ts";
import { MAX_MQTT_PACKET_BYTES } from "../sources/mqtt/packet-size-guard.ts";
import { createSessionRescue, GONE } from "../sources/mqtt/session-rescue.ts";
import type { ActorSystem } from "../supervisor/index.ts";
import type { NodeConfig } from "./config.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The node's edge: the MQTT broker (embedded aedes on its own thread unless MQTT_URL names
 * one), the subscriber (here, or on the embedded broker's thread: `subscriberOf`) feeding the ingest actor (which validates and appends to the log, with
 * back-pressure on the subscriber), and the sensor simulator with its drift switch.
 *
 * Nothing the broker acknowledged is lost: the subscriber PUBACKs a reading only once ingest has
 * appended it, and its session is persistent (clean=false, a client id kept in DATA_DIR), so the
 * readings published while the node is stopped or restarting wait at the broker for it. The
 * embedded broker, which dies with the node, PUBACKs a device's QoS 1 reading only after the
 * ingest's PUBACK (acknowledgement chaining), and a graceful stop first lets the subscriber take
 * and append everything the broker has queued for it. On a broker shared by several nodes, a node
 * that dies (or stops) has its session rescued by another one (sources/mqtt/session-rescue.ts),
 * so its share of the readings is neither stranded nor lost.
 */
export interface NodeEdge {
  readonly mqttUrl: string;
  readonly subscriber: MqttSubscriber;
  readonly publisher: SensorPublisher | undefined;
  /**
   * sources first, then ingest: what was received is appended before this resolves; the
   * embedded broker's queue is drained for at most what the budget leaves for work
   */
  stopSources(budget?: StopBudget): Promise<void>;
  stopBroker(): Promise<void>;
}

export interface EdgeDeps {
  /** the main thread's actor system, where the ingest actor lives */
  readonly system: ActorSystem;
  readonly fleet: SensorFleet;
}

/** how long a graceful stop waits for the embedded broker's queue to the ingest to empty */
const DRAIN_TIMEOUT_MS = 15_000;

export async function startEdge(node: NodeContext, deps: EdgeDeps): Promise<NodeEdge> {
  const { config, metrics, feeds, counters } = node;
  const ingest = deps.system.spawn(
    ingestProps({
      log: node.log,
      encode: node.codec.encode,
      parse: (topic, payload, now) => parseSensorMessage(topic, payload, now),
      onAppended: (accepted, letters) => {
        counters.ingested += accepted;
        counters.rejected += letters.length;
        metrics.messagesByTopic.inc({ topic: Topics.sensorsRaw, direction: "append" }, accepted);
        for (const letter of letters) {
          metrics.deadLetters.inc({ source: "mqtt", code: letter.code });
          feeds.publish("dead-letters", letter);
        }
      },
    }),
    "mqtt",
  );

  const auth = mqttAuthFromEnv(process.env, config.applicationId, config.mqttUrl !== undefined);
  // the embedded broker acknowledges a device's QoS 1 reading only once the ingest has (after its
  // durable append): what it acknowledged survives a kill -9 of the node (aedes-ack-chain.ts)
  const ackChain = { subscriberIdPrefix: ingestClientIdPrefix(config.applicationId) };
  const embedded = (port: number): AedesWorkerBroker =>
    createAedesWorkerBroker({ host: "127.0.0.1", port, access: auth.access, ackChain });
  let broker: MqttBroker | AedesWorkerBroker = config.mqttUrl
    ? createExternalBroker(config.mqttUrl)
    : embedded(config.mqttPort);
  try {
    await broker.start();
  } catch (cause) {
    if (config.mqttUrl || config.mqttPort === 0) throw cause;
    // The port is taken (often by Mosquitto from `bun run infra:up`): the embedded broker takes
    // any free port rather than refusing to start; the banner prints where it is.
    console.warn(
      `MQTT port ${config.mqttPort} is taken; the embedded broker listens on a free port instead (MQTT_URL=mqtt://127.0.0.1:${config.mqttPort} would use the broker already there)`,
    );
    broker = embedded(0);
    try {
      await broker.start();
    } catch (second) {
      throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "the embedded MQTT broker cannot start", {
        cause: second,
      });
    }
  }
  const mqttUrl = broker.url();
  const identity = claimClientId(config.dataDir, config.applicationId);
  // on a shared external broker, a session whose node died is rescued by another node
  const statusPrefix = `platform/${config.applicationId}/ingest-sessions`;
  const ingestSubscriber = (clientId: string, extra: Partial<MqttSubscriberOptions> = {}) =>
    subscriberOf(broker, config.mqttIngestThread, {
      // nodes of one application sharing an external broker split the readings between them
      // (MQTT shared subscription) instead of each ingesting every reading; each node has its
      // own persistent session in the share group
      ...(config.mqttUrl ? { topics: [`$share/${config.applicationId}/city/sensors/#`] } : {}),
      clientId,
      ...(auth.ingest ? { credentials: auth.ingest } : {}),
      cleanSession: false,
      // aedes speaks MQTT 3.1.1 and refuses large packets itself; an external broker is asked
      // (MQTT 5 Maximum Packet Size) not to send this client anything larger
      protocolVersion: config.mqttUrl ? 5 : 4,
      maxPacketBytes: MAX_MQTT_PACKET_BYTES,
      onBatch: (batch) =>
        new Promise<void>((resolve, reject) => {
          const message: IngestMessage = {
            type: "batch",
            messages: batch,
            done: (error) => (error === undefined ? resolve() : reject(error)),
          };
          ingest.offer(message).catch(reject);
        }),
      onError: (error) => metrics.deadLetters.inc({ source: "mqtt-client", code: error.code }),
      ...extra,
    });
  const subscriber = ingestSubscriber(identity.clientId, {
    ...(config.mqttUrl ? { will: { topic: `${statusPrefix}/${identity.clientId}`, payload: GONE } } : {}),
  });
  const rescue = config.mqttUrl
    ? createSessionRescue({
        url: mqttUrl,
        prefix: statusPrefix,
        ownClientId: identity.clientId,
        ...(auth.ingest ? { credentials: auth.ingest } : {}),
        subscriberFor: (clientId, onClosed) => ingestSubscriber(clientId, { reconnectPeriodMs: 0, onClosed }),
        onRescued: (clientId) => console.warn(`rescuing the MQTT session of a stopped node (${clientId})`),
        onError: (error) => metrics.deadLetters.inc({ source: "mqtt-rescue", code: error.code }),
      })
    : undefined;
  try {
    await subscriber.start();
    await rescue?.start();
  } catch (error) {
    identity.release();
    throw error;
  }

  const publisher = config.simulate
    ? createSensorPublisher({
        url: mqttUrl,
        fleet: simulatedFleet(config, deps.fleet),
        ratePerSecond: config.rate,
        clientId: `${config.applicationId}-simulator-${process.pid}`,
        ...(auth.simulator ? { credentials: auth.simulator } : {}),
        // mqtt.js adds a 'drain' listener per publish waiting on a full socket: keep that
        // queue short, or adding and removing listeners costs more than publishing
        maxInFlight: 1000,
      })
    : undefined;
  await publisher?.start();
  const driftTimer =
    config.injectDriftAfterSeconds > 0
      ? setTimeout(
          () => deps.fleet.setDrift({ type: "traffic", field: "vehicle_count", shift: 40 }),
          config.injectDriftAfterSeconds * 1000,
        )
      : undefined;

  return {
    mqttUrl,
    subscriber,
    publisher,
    async stopSources(budget) {
      if (driftTimer) clearTimeout(driftTimer);
      await publisher?.stop();
      // the embedded broker acknowledged a QoS 1 reading only once the ingest had appended it
      // (aedes-ack-chain.ts), so its queue holds nothing acknowledged: what is not drained is
      // resent by its device after the restart. The drain spares those resends (and keeps QoS 0
      // readings already queued), so it still comes before any other work of the stop.
      const drainMs = Math.min(DRAIN_TIMEOUT_MS, budget?.forWorkMs() ?? DRAIN_TIMEOUT_MS);
      const stranded = (await broker.drain?.(identity.clientId, drainMs)) ?? 0;
      if (stranded > 0)
        console.warn(
          `${stranded} readings queued in the embedded MQTT broker were not ingested before the stop`,
        );
      await subscriber.stop();
      // the other nodes take this session's share (and its queue) until this node is back
      await rescue?.announceGone(identity.clientId);
      await rescue?.stop();
      identity.release();
    },
    stopBroker: () => broker.stop(),
  };
}

/**
 * The ingest's subscriber: over TCP from the main thread (the default, and always for an
 * external broker), or with MQTT_INGEST_THREAD=broker on the embedded broker's own thread, which
 * hands the main thread whole batches (aedes-thread-subscriber.ts) and spares it the MQTT
 * client's socket reads and packet parsing. Not the default: at 20k readings/s on a loaded
 * machine the broker's thread, now also parsing every reading, fell behind its publishers in
 * every run (the generator published 10-12.5 k/s against 13-18 k/s, the MQTT round trip through
 * that broker 35-500 ms against 5-185 ms; bench/RESULTS.md), while the main thread had slack.
 */
function subscriberOf(
  broker: MqttBroker | AedesWorkerBroker,
  thread: NodeConfig["mqttIngestThread"],
  options: Omit<MqttSubscriberOptions, "url">,
): MqttSubscriber {
  if ("ingestSubscriber" in broker && thread === "broker") return broker.ingestSubscriber(options);
  return createMqttSubscriber({ ...options, url: broker.url() });
}

/**
 * The fleet the simulator publishes: the statistical one, or (SIMULATOR=llm) with some readings
 * written by Gemini through @google/genai, falling back to the statistical reading without a key
 * or on any failure (sources/iot/llm-generator.ts).
 */
function simulatedFleet(config: NodeConfig, fleet: SensorFleet): SensorFleet {
  if (config.simulator !== "llm") return fleet;
  const generator = createLlmReadingGenerator({
    fleet,
    env: { GEMINI_API_KEY: config.geminiApiKey, GEMINI_BASE_URL: config.geminiBaseUrl },
    model: config.geminiModel,
  });
  if (generator.mode === "simulator")
    console.warn("SIMULATOR=llm needs GEMINI_API_KEY: publishing the statistical simulator's readings");
  return llmBlendedFleet(fleet, generator, {
    onError: (error) =>
      console.error(`llm simulator: ${error instanceof Error ? error.message : String(error)}`),
  });
}
