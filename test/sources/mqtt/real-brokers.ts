import { createAedesBroker } from "../../../sources/mqtt/aedes-broker.ts";
import type { MqttBroker } from "../../../sources/mqtt/mqtt-broker.ts";

/**
 * The brokers the subscriber tests run against: the embedded aedes broker (started here,
 * MQTT 3.1.1) and the real Mosquitto at MOSQUITTO_URL (MQTT 5) when it is set. Each test on
 * Mosquitto uses topics and client ids of its own run, since other runs share that broker.
 */
export interface TestBroker {
  readonly name: string;
  readonly protocolVersion: 4 | 5;
  /** a started broker and how to stop it (nothing to stop for Mosquitto) */
  start(): Promise<{ url: string; stop(): Promise<void> }>;
}

const aedes: TestBroker = {
  name: "aedes",
  protocolVersion: 4,
  async start() {
    const broker: MqttBroker = createAedesBroker();
    await broker.start();
    return { url: broker.url(), stop: () => broker.stop() };
  },
};

const mosquittoUrl = process.env.MOSQUITTO_URL;
const mosquitto: TestBroker | undefined = mosquittoUrl
  ? {
      name: "mosquitto",
      protocolVersion: 5,
      start: async () => ({ url: mosquittoUrl, stop: async () => {} }),
    }
  : undefined;

export const testBrokers: readonly TestBroker[] = mosquitto ? [aedes, mosquitto] : [aedes];

export function runTopic(name: string): string {
  return `city/sensors/${name}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
