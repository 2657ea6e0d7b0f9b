import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * MQTT credentials derived from one secret (`MQTT_DEVICE_SECRET`), so the broker, the ingest,
 * the simulator and a provisioning tool agree on every password without a stored list:
 * password = base64url(HMAC-SHA256(secret, username)). A device is given its own password when it
 * is provisioned and never sees the secret; knowing one device's password tells nothing about
 * another's.
 *
 * Usernames say who connects (the policy in `mqtt-access-policy.ts` reads the role from them):
 *   <sensor_id>        a device; publishes only to city/sensors/<type>/<sensor_id>
 *   ingest@<app>       the ingest of application <app>; subscribes to the readings, owns the
 *                      client ids `<app>-ingest-*`, publishes its session status
 *   gateway@<name>     an edge gateway publishing for many sensors (the built-in simulator)
 * A sensor id cannot contain '@' (messages/sensor-reading.ts), so a device can never be named
 * like a service. '@' is also legal in Mosquitto's password and ACL files, which carry the same
 * usernames (`infra/mosquitto/write-auth.ts`).
 */
export interface MqttCredentials {
  readonly username: string;
  readonly password: string;
}

export const INGEST_USER_PREFIX = "ingest@";
export const GATEWAY_USER_PREFIX = "gateway@";

export const ingestUsername = (applicationId: string) => `${INGEST_USER_PREFIX}${applicationId}`;
export const gatewayUsername = (name: string) => `${GATEWAY_USER_PREFIX}${name}`;

/** the client ids reserved for an application's ingest sessions (see client-identity.ts) */
export const ingestClientIdPrefix = (applicationId: string) => `${applicationId}-ingest-`;

export function mqttPassword(secret: string, username: string): string {
  return createHmac("sha256", secret).update(username, "utf8").digest("base64url");
}

export function credentialsFor(secret: string, username: string): MqttCredentials {
  return { username, password: mqttPassword(secret, username) };
}

/** constant-time: a wrong password takes as long to refuse whatever its first bytes are */
export function passwordMatches(secret: string, username: string, password: Uint8Array | undefined): boolean {
  if (!password) return false;
  const expected = Buffer.from(mqttPassword(secret, username), "utf8");
  const given = Buffer.from(password);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
