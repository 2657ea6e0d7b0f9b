import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { MqttBroker } from "./mqtt-broker.ts";

/** A broker run by someone else (Mosquitto from `infra/`, a cloud broker): only its URL. */
export function createExternalBroker(url: string): MqttBroker {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "MQTT_URL is not a URL", { cause: error });
  }
  if (!["mqtt:", "mqtts:", "tcp:", "ws:", "wss:"].includes(parsed.protocol)) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `MQTT_URL has an unsupported scheme ${parsed.protocol}`,
    );
  }
  return {
    name: "external",
    start: async () => {},
    stop: async () => {},
    url: () => url,
  };
}
