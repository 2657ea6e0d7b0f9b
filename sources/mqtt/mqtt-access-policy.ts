import {
  GATEWAY_USER_PREFIX,
  INGEST_USER_PREFIX,
  ingestClientIdPrefix,
  passwordMatches,
} from "./mqtt-credentials.ts";

/**
 * Who may connect to the MQTT broker, publish where, and subscribe to what: the rules the
 * embedded broker applies in its aedes hooks (`aedes-broker.ts`), and the same rules Mosquitto
 * applies from the password and ACL files `infra/mosquitto/write-auth.ts` writes.
 *
 *   principal        publish                                  subscribe
 *   device <id>      city/sensors/<any type>/<id>             nothing
 *   gateway@<name>   city/sensors/<type>/<id>                 nothing
 *   ingest@<app>     platform/<app>/ingest-sessions/<id>      city/sensors/..., its $share
 *                    (its will and stop announcements)        group, platform/<app>/ingest-sessions/...
 *   anonymous        only when the broker is open (no secret): everything but platform/...
 *
 * A client id of the form `<app>-ingest-<slot id>` belongs to that application's ingest: a
 * broker disconnects the older of two clients with one id, so a stranger connecting again and
 * again with the ingest's id would cut the ingest off each time (the finding: 201 readings/s
 * down to 36/s). Such an id is refused to anyone but `ingest@<app>`, open broker or not; the
 * session rescue of another node (`session-rescue.ts`) connects with the ingest's credentials
 * and keeps working.
 */
export type MqttPrincipal =
  | { readonly kind: "device"; readonly sensorId: string }
  | { readonly kind: "gateway"; readonly name: string }
  | { readonly kind: "ingest"; readonly applicationId: string }
  | { readonly kind: "anonymous" };

export interface MqttAccessOptions {
  /** the secret every password derives from (mqtt-credentials.ts) */
  readonly secret: string;
  /** clients without credentials may connect (the zero-setup default: no MQTT_DEVICE_SECRET) */
  readonly allowAnonymous: boolean;
}

/** MQTT 3.1.1 CONNACK return codes (section 3.2.2.3), the reasons a connection is refused */
export const ConnackRefusal = {
  IDENTIFIER_REJECTED: 2,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;
export type ConnackRefusal = (typeof ConnackRefusal)[keyof typeof ConnackRefusal];

export type Admission =
  | { readonly ok: true; readonly principal: MqttPrincipal }
  | { readonly ok: false; readonly refusal: ConnackRefusal; readonly reason: string };

const SENSOR_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const SENSOR_TOPIC = /^city\/sensors\/[^/#+]+\/([^/#+]+)$/;
const INGEST_ID_MARK = "-ingest-";

export interface MqttAccessPolicy {
  admit(clientId: string, username: string | undefined, password: Uint8Array | undefined): Admission;
  mayPublish(principal: MqttPrincipal, topic: string): boolean;
  maySubscribe(principal: MqttPrincipal, filter: string): boolean;
}

export function createMqttAccessPolicy(options: MqttAccessOptions): MqttAccessPolicy {
  const principalOf = (username: string): MqttPrincipal | undefined => {
    if (username.startsWith(INGEST_USER_PREFIX)) {
      const applicationId = username.slice(INGEST_USER_PREFIX.length);
      return NAME.test(applicationId) ? { kind: "ingest", applicationId } : undefined;
    }
    if (username.startsWith(GATEWAY_USER_PREFIX)) {
      const name = username.slice(GATEWAY_USER_PREFIX.length);
      return NAME.test(name) ? { kind: "gateway", name } : undefined;
    }
    return SENSOR_ID.test(username) ? { kind: "device", sensorId: username } : undefined;
  };

  return {
    admit(clientId, username, password) {
      let principal: MqttPrincipal;
      if (username === undefined || username === "") {
        if (!options.allowAnonymous)
          return { ok: false, refusal: ConnackRefusal.NOT_AUTHORIZED, reason: "credentials required" };
        principal = { kind: "anonymous" };
      } else {
        const named = principalOf(username);
        if (!named || !passwordMatches(options.secret, username, password))
          return {
            ok: false,
            refusal: ConnackRefusal.BAD_USERNAME_OR_PASSWORD,
            reason: "bad username or password",
          };
        principal = named;
      }
      if (clientId.includes(INGEST_ID_MARK) && !ownsIngestId(principal, clientId))
        return {
          ok: false,
          refusal: ConnackRefusal.IDENTIFIER_REJECTED,
          reason: "client id reserved for an application's ingest",
        };
      return { ok: true, principal };
    },
    mayPublish(principal, topic) {
      switch (principal.kind) {
        case "device":
          return SENSOR_TOPIC.exec(topic)?.[1] === principal.sensorId;
        case "gateway":
          return SENSOR_TOPIC.test(topic);
        case "ingest": {
          const prefix = statusPrefix(principal.applicationId);
          return topic.startsWith(prefix) && !topic.slice(prefix.length).includes("/");
        }
        case "anonymous":
          return !topic.startsWith("platform/") && !topic.startsWith("$");
      }
    },
    maySubscribe(principal, filter) {
      switch (principal.kind) {
        case "device":
        case "gateway":
          return false;
        case "ingest": {
          const shared = `$share/${principal.applicationId}/`;
          const plain = filter.startsWith(shared) ? filter.slice(shared.length) : filter;
          // the literal prefix comes before any wildcard, so a prefix test bounds every match
          return plain.startsWith("city/sensors/") || plain.startsWith(statusPrefix(principal.applicationId));
        }
        case "anonymous":
          return !filter.startsWith("$");
      }
    },
  };
}

const statusPrefix = (applicationId: string) => `platform/${applicationId}/ingest-sessions/`;

function ownsIngestId(principal: MqttPrincipal, clientId: string): boolean {
  return principal.kind === "ingest" && clientId.startsWith(ingestClientIdPrefix(principal.applicationId));
}
