import { type AedesBrokerOptions, createAedesBroker } from "./aedes-broker.ts";
import { createExternalBroker } from "./external-broker.ts";
import type { MqttBroker } from "./mqtt-broker.ts";

/** `MQTT_URL` names an external broker; without it the embedded aedes broker is used. */
export function mqttBrokerFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  embedded: AedesBrokerOptions = {},
): MqttBroker {
  const url = env.MQTT_URL?.trim();
  return url
    ? createExternalBroker(url)
    : createAedesBroker({ port: Number(env.MQTT_PORT ?? 0) || 0, ...embedded });
}
