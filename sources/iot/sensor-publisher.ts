import mqtt, { type MqttClient } from "mqtt";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { SensorReading } from "../../messages/sensor-reading.ts";
import type { MqttCredentials } from "../mqtt/mqtt-credentials.ts";
import { safeHost } from "../mqtt/mqtt-subscriber.ts";
import { sensorTopic } from "./ingest-parser.ts";
import type { SensorFleet } from "./sensor-fleet.ts";

/**
 * Publishes a simulated fleet over MQTT to `city/sensors/<type>/<sensor_id>` (JSON) at a target
 * rate. Every `roundMs` it owes `rate × elapsed` readings and publishes them as one batch of
 * writes, bounded twice: at most `maxBatch` per round (debt beyond that is dropped and counted
 * as `shortfall`, so a stalled process does not burst later) and at most `maxInFlight` publishes
 * not yet written (QoS 0) or not yet acknowledged (QoS 1). Readings come from full sweeps of the
 * fleet at the current clock: with N sensors and rate R each sensor reports every N/R seconds.
 */
export interface SensorPublisherOptions {
  readonly url: string;
  readonly fleet: SensorFleet;
  /** target readings per second */
  readonly ratePerSecond: number;
  /** default 0 */
  readonly qos?: 0 | 1;
  /** default 20 ms */
  readonly roundMs?: number;
  /** default 5,000 */
  readonly maxBatch?: number;
  /** default 20,000 */
  readonly maxInFlight?: number;
  readonly clock?: () => number;
  readonly clientId?: string;
  /** a gateway's credentials (mqtt-credentials.ts): the simulator publishes for every sensor */
  readonly credentials?: MqttCredentials;
  readonly onError?: (error: PlatformError) => void;
}

export interface SensorPublisherStats {
  readonly published: number;
  readonly inFlight: number;
  readonly rounds: number;
  /** readings owed but not published because the publisher fell behind */
  readonly shortfall: number;
}

export interface SensorPublisher {
  start(): Promise<void>;
  /** stop publishing, wait (bounded) for in-flight publishes, disconnect */
  stop(): Promise<void>;
  stats(): SensorPublisherStats;
  /** publish these readings now, outside the rate (tests, replays) */
  publish(readings: readonly SensorReading[]): Promise<void>;
}

export function createSensorPublisher(options: SensorPublisherOptions): SensorPublisher {
  const qos = options.qos ?? 0;
  const roundMs = options.roundMs ?? 20;
  const maxBatch = options.maxBatch ?? 5_000;
  const maxInFlight = options.maxInFlight ?? 20_000;
  const clock = options.clock ?? Date.now;
  let client: MqttClient | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let pending: SensorReading[] = [];
  let owed = 0;
  let lastRound = 0;
  const counts = { published: 0, inFlight: 0, rounds: 0, shortfall: 0 };

  const send = (c: MqttClient, reading: SensorReading): void => {
    counts.inFlight++;
    c.publish(sensorTopic(reading.type, reading.sensor_id), JSON.stringify(reading), { qos }, (error) => {
      counts.inFlight--;
      if (error) {
        options.onError?.(
          new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "MQTT publish failed", { cause: error }),
        );
      } else {
        counts.published++;
      }
    });
  };

  function round(): void {
    const c = client;
    if (!c) return;
    const now = clock();
    owed += (options.ratePerSecond * (now - lastRound)) / 1000;
    lastRound = now;
    if (owed > maxBatch) {
      counts.shortfall += Math.floor(owed - maxBatch);
      owed = maxBatch;
    }
    const n = Math.min(Math.floor(owed), maxInFlight - counts.inFlight);
    for (let i = 0; i < n; i++) {
      if (pending.length === 0) pending = options.fleet.readingsAt(now).reverse();
      const reading = pending.pop();
      if (reading) send(c, reading);
    }
    owed -= Math.max(0, n);
    counts.rounds++;
  }

  return {
    async start() {
      if (client) return;
      try {
        client = await mqtt.connectAsync(options.url, {
          reconnectPeriod: 1000,
          ...(options.clientId ? { clientId: options.clientId } : {}),
          ...(options.credentials ?? {}),
        });
      } catch (error) {
        throw new PlatformError(
          ErrorCodes.INFRA_UNAVAILABLE,
          `sensor publisher cannot connect to ${safeHost(options.url)}`,
          {
            cause: error,
          },
        );
      }
      client.on("error", (error) =>
        options.onError?.(
          new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "MQTT publisher error", { cause: error }),
        ),
      );
      lastRound = clock();
      timer = setInterval(round, roundMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      if (!c) return;
      const deadline = Date.now() + 5_000;
      while (counts.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await c.endAsync();
    },
    stats: () => ({ ...counts }),
    async publish(readings) {
      const c = client;
      if (!c) throw new PlatformError(ErrorCodes.CONFIG_INVALID, "publish() before start()");
      await Promise.all(
        readings.map((r) => c.publishAsync(sensorTopic(r.type, r.sensor_id), JSON.stringify(r), { qos })),
      );
      counts.published += readings.length;
    },
  };
}
