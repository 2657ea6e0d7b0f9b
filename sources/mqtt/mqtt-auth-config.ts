import { randomBytes } from "node:crypto";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { MqttAccessOptions } from "./mqtt-access-policy.ts";
import { credentialsFor, gatewayUsername, ingestUsername, type MqttCredentials } from "./mqtt-credentials.ts";

/**
 * How a node's MQTT parts authenticate, from `MQTT_DEVICE_SECRET`:
 * - set: the embedded broker admits only derived credentials (mqtt-access-policy.ts); the ingest
 *   connects as `ingest@<app>`, the simulator as `gateway@simulator`, on the embedded broker and
 *   on an external one alike (Mosquitto's files are written from the same secret);
 * - unset: the embedded broker stays open to anonymous clients (the zero-setup default), but the
 *   node still derives its ingest's credentials from a random secret of this process, so the
 *   ingest's client id cannot be taken over; on an external broker the node connects anonymously.
 * The secret is never logged nor put in an error.
 */
export interface MqttAuthConfig {
  /** the embedded broker's policy */
  readonly access: MqttAccessOptions;
  /** the ingest subscriber's and the session rescue's credentials */
  readonly ingest: MqttCredentials | undefined;
  /** the built-in simulator's */
  readonly simulator: MqttCredentials | undefined;
}

/** shorter secrets are refused: 16 bytes of entropy is the least an HMAC key should carry */
export const MIN_SECRET_LENGTH = 16;

export function mqttAuthFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  applicationId: string,
  externalBroker: boolean,
): MqttAuthConfig {
  const configured = env.MQTT_DEVICE_SECRET?.trim() || undefined;
  if (configured !== undefined && configured.length < MIN_SECRET_LENGTH)
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `MQTT_DEVICE_SECRET must be at least ${MIN_SECRET_LENGTH} characters`,
    );
  const secret = configured ?? randomBytes(32).toString("base64url");
  const useCredentials = configured !== undefined || !externalBroker;
  return {
    access: { secret, allowAnonymous: configured === undefined },
    ingest: useCredentials ? credentialsFor(secret, ingestUsername(applicationId)) : undefined,
    simulator: configured !== undefined ? credentialsFor(secret, gatewayUsername("simulator")) : undefined,
  };
}
