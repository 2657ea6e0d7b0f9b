import mqtt, { type MqttClient } from "mqtt";
import { trafficReading } from "./traffic-reading.ts";

/**
 * Continuous load for the failure tests: `sensors` traffic sensors each publish one reading every
 * `intervalMs` to Mosquitto at QoS 1, event time = wall time (strictly increasing per sensor).
 * Every reading whose PUBACK came back is remembered: that is the reference the results are
 * compared with. A publish that fails (broker gone) is retried with the same reading until
 * acknowledged, so the reference is exactly what the broker accepted.
 */
export interface PublishedReading {
  readonly sensor: string;
  readonly at: number;
  readonly count: number;
}

export interface SensorLoad {
  readonly sensors: readonly string[];
  /** readings acknowledged by the MQTT broker, in publish order */
  readonly acknowledged: PublishedReading[];
  /** stop the periodic load (waits for the readings in flight) */
  stop(): Promise<void>;
  /** one reading per sensor far ahead in event time, so every earlier window closes */
  closeWindows(aheadMs: number): Promise<number>;
  end(): Promise<void>;
}

export async function startSensorLoad(options: {
  readonly mqttUrl: string;
  readonly prefix: string;
  readonly sensors: number;
  readonly intervalMs: number;
}): Promise<SensorLoad> {
  const sensors = Array.from({ length: options.sensors }, (_, i) => `${options.prefix}${i}`);
  const client: MqttClient = await mqtt.connectAsync(options.mqttUrl, {
    clientId: `${options.prefix}load`,
    reconnectPeriod: 200,
  });
  const acknowledged: PublishedReading[] = [];
  const lastAt = new Map<string, number>();
  let seq = 0;

  const publishOne = async (sensor: string, at: number) => {
    const count = 1 + (seq++ % 97);
    const payload = JSON.stringify(trafficReading(sensor, at, count));
    for (;;) {
      try {
        await client.publishAsync(`city/sensors/traffic/${sensor}`, payload, { qos: 1 });
        acknowledged.push({ sensor, at, count });
        return;
      } catch {
        // the broker connection dropped before the PUBACK: the same reading again
        await Bun.sleep(100);
      }
    }
  };
  const tick = async () => {
    const now = Date.now();
    await Promise.all(
      sensors.map((sensor) => {
        const at = Math.max(now, (lastAt.get(sensor) ?? 0) + 1);
        lastAt.set(sensor, at);
        return publishOne(sensor, at);
      }),
    );
  };

  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      await tick();
      await Bun.sleep(Math.max(0, options.intervalMs - (Date.now() - started)));
    }
  })();

  return {
    sensors,
    acknowledged,
    async stop() {
      running = false;
      await loop;
    },
    async closeWindows(aheadMs) {
      const at = Math.max(...lastAt.values()) + aheadMs;
      await Promise.all(sensors.map((sensor) => publishOne(sensor, at)));
      return at;
    },
    async end() {
      running = false;
      await loop;
      await client.endAsync();
    },
  };
}
