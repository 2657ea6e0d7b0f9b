import { type IngestMessage, ingestProps } from "../actors/ingest.ts";
import type { FeedHub } from "../api/feeds/feed-hub.ts";
import type { PlatformMetrics } from "../api/metrics.ts";
import type { Log } from "../log/log.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { Topics } from "../messages/topics.ts";
import { parseSensorMessage } from "../sources/iot/ingest-parser.ts";
import type { SensorFleet } from "../sources/iot/sensor-fleet.ts";
import { createSensorPublisher, type SensorPublisher } from "../sources/iot/sensor-publisher.ts";
import { createAedesWorkerBroker } from "../sources/mqtt/aedes-worker-broker.ts";
import { createExternalBroker } from "../sources/mqtt/external-broker.ts";
import { createMqttSubscriber, type MqttSubscriber } from "../sources/mqtt/mqtt-subscriber.ts";
import type { ActorSystem } from "../supervisor/index.ts";
import type { NodeConfig } from "./config.ts";
import type { RecordCodec } from "./record-codec.ts";

/**
 * The node's edge: the MQTT broker (embedded aedes on its own thread unless MQTT_URL names
 * one), the subscriber feeding the ingest actor (which validates and appends to the log, with
 * back-pressure on the subscriber), and the sensor simulator with its drift switch.
 */
export interface NodeEdge {
  readonly mqttUrl: string;
  readonly subscriber: MqttSubscriber;
  readonly publisher: SensorPublisher | undefined;
  /** sources first, then ingest: what was received is appended before this resolves */
  stopSources(): Promise<void>;
  stopBroker(): Promise<void>;
}

export interface EdgeDeps {
  readonly config: NodeConfig;
  readonly log: Log;
  readonly codec: RecordCodec;
  readonly system: ActorSystem;
  readonly metrics: PlatformMetrics;
  readonly feeds: FeedHub;
  readonly fleet: SensorFleet;
  readonly counters: { ingested: number; rejected: number };
}

export async function startEdge(deps: EdgeDeps): Promise<NodeEdge> {
  const { config, metrics, feeds, counters } = deps;
  const ingest = deps.system.spawn(
    ingestProps({
      log: deps.log,
      encode: deps.codec.encode,
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

  let broker = config.mqttUrl
    ? createExternalBroker(config.mqttUrl)
    : createAedesWorkerBroker({ host: "127.0.0.1", port: config.mqttPort });
  try {
    await broker.start();
  } catch (cause) {
    if (config.mqttUrl || config.mqttPort === 0) throw cause;
    // The port is taken (often by Mosquitto from `bun run infra:up`): the embedded broker takes
    // any free port rather than refusing to start; the banner prints where it is.
    console.warn(
      `MQTT port ${config.mqttPort} is taken; the embedded broker listens on a free port instead (MQTT_URL=mqtt://127.0.0.1:${config.mqttPort} would use the broker already there)`,
    );
    broker = createAedesWorkerBroker({ host: "127.0.0.1", port: 0 });
    try {
      await broker.start();
    } catch (second) {
      throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "the embedded MQTT broker cannot start", {
        cause: second,
      });
    }
  }
  const mqttUrl = broker.url();
  const subscriber = createMqttSubscriber({
    url: mqttUrl,
    // nodes of one application sharing an external broker split the readings between them
    // (MQTT shared subscription) instead of each ingesting every reading
    ...(config.mqttUrl ? { topics: [`$share/${config.applicationId}/city/sensors/#`] } : {}),
    clientId: `${config.applicationId}-ingest-${process.pid}`,
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
  });
  await subscriber.start();

  const publisher = config.simulate
    ? createSensorPublisher({
        url: mqttUrl,
        fleet: deps.fleet,
        ratePerSecond: config.rate,
        clientId: `${config.applicationId}-simulator-${process.pid}`,
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
    async stopSources() {
      if (driftTimer) clearTimeout(driftTimer);
      await publisher?.stop();
      await subscriber.stop();
    },
    stopBroker: () => broker.stop(),
  };
}
