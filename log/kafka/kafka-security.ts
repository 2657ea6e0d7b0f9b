import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "@platformatic/kafka";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * How the log authenticates to Kafka and protects the wire: SASL (SCRAM-SHA-256/512, or PLAIN
 * over TLS only) and TLS with a CA of the operator's (a self-signed cluster CA is the common
 * case). Kafka's listener names these SASL_SSL, SASL_PLAINTEXT and SSL; which one a broker
 * speaks is configuration (`KAFKA_SASL_*`, `KAFKA_TLS*`), never a default: without it the log
 * speaks PLAINTEXT as before.
 *
 * The password is a value or a file (`KAFKA_SASL_PASSWORD_FILE`: Kubernetes and systemd hand
 * secrets over as files); it is never logged and never put into an error.
 */
export const SASL_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] as const;
export type KafkaSaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSecurity {
  readonly sasl?: {
    readonly mechanism: KafkaSaslMechanism;
    readonly username: string;
    readonly password: string;
  };
  readonly tls?: {
    /** PEM of the CA that signed the brokers' certificates; default: the system's CAs */
    readonly ca?: string;
    /** PEM client certificate and key (mutual TLS) */
    readonly cert?: string;
    readonly key?: string;
    /** the name the brokers' certificates carry when it is not the bootstrap host */
    readonly servername?: string;
  };
}

/** what @platformatic/kafka's clients and connection pools take */
export function connectionSecurity(
  security: KafkaSecurity | undefined,
): Pick<ConnectionOptions, "sasl" | "tls"> {
  if (!security) return {};
  if (security.sasl?.mechanism === "PLAIN" && !security.tls)
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "SASL PLAIN sends the password as it is: use it over TLS only (KAFKA_TLS=true), or SCRAM",
    );
  return {
    ...(security.sasl ? { sasl: { ...security.sasl } } : {}),
    ...(security.tls
      ? {
          tls: {
            ...(security.tls.ca ? { ca: security.tls.ca } : {}),
            ...(security.tls.cert ? { cert: security.tls.cert } : {}),
            ...(security.tls.key ? { key: security.tls.key } : {}),
            ...(security.tls.servername ? { servername: security.tls.servername } : {}),
            // never configurable off: a TLS connection that trusts any certificate protects nothing
            rejectUnauthorized: true,
          },
        }
      : {}),
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * KAFKA_SASL_MECHANISM (scram-sha-256 | scram-sha-512 | plain), KAFKA_SASL_USERNAME,
 * KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE; KAFKA_TLS=true, KAFKA_TLS_CA_FILE,
 * KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE, KAFKA_TLS_SERVERNAME. Unset: undefined (PLAINTEXT).
 */
export function kafkaSecurityFromEnv(env: Env = process.env): KafkaSecurity | undefined {
  const mechanismName = env.KAFKA_SASL_MECHANISM?.trim().toUpperCase();
  let sasl: KafkaSecurity["sasl"];
  if (mechanismName) {
    const mechanism = SASL_MECHANISMS.find((m) => m === mechanismName);
    if (!mechanism)
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(", ")}`,
      );
    const username = env.KAFKA_SASL_USERNAME?.trim();
    const password = env.KAFKA_SASL_PASSWORD_FILE
      ? readSecretFile("KAFKA_SASL_PASSWORD_FILE", env.KAFKA_SASL_PASSWORD_FILE).trim()
      : env.KAFKA_SASL_PASSWORD;
    if (!username || !password)
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        "KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)",
      );
    sasl = { mechanism, username, password };
  }
  const tlsOn = /^(1|true|yes)$/i.test(env.KAFKA_TLS?.trim() ?? "") || env.KAFKA_TLS_CA_FILE !== undefined;
  const tls: KafkaSecurity["tls"] = tlsOn
    ? {
        ...(env.KAFKA_TLS_CA_FILE ? { ca: readSecretFile("KAFKA_TLS_CA_FILE", env.KAFKA_TLS_CA_FILE) } : {}),
        ...(env.KAFKA_TLS_CERT_FILE
          ? { cert: readSecretFile("KAFKA_TLS_CERT_FILE", env.KAFKA_TLS_CERT_FILE) }
          : {}),
        ...(env.KAFKA_TLS_KEY_FILE
          ? { key: readSecretFile("KAFKA_TLS_KEY_FILE", env.KAFKA_TLS_KEY_FILE) }
          : {}),
        ...(env.KAFKA_TLS_SERVERNAME ? { servername: env.KAFKA_TLS_SERVERNAME.trim() } : {}),
      }
    : undefined;
  if (!sasl && !tls) return undefined;
  const security = { ...(sasl ? { sasl } : {}), ...(tls ? { tls } : {}) };
  connectionSecurity(security);
  return security;
}

function readSecretFile(variable: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${variable} names a file that cannot be read`, {
      cause: error,
    });
  }
}
