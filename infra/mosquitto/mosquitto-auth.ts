import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  credentialsFor,
  gatewayUsername,
  ingestClientIdPrefix,
  ingestUsername,
} from "../../sources/mqtt/mqtt-credentials.ts";

/**
 * Mosquitto's side of the MQTT access policy (sources/mqtt/mqtt-access-policy.ts), written as
 * its own files from the same secret, so Mosquitto admits exactly the credentials the platform
 * derives. Two authenticated listeners (`per_listener_settings true`: each has its own password
 * and ACL file), beside the anonymous 1883 that stays as it is:
 *
 *   devices   (default 1884)  password per device; `pattern write city/sensors/+/%u`, nothing
 *                             else; `use_username_as_clientid`: a device's client id is its
 *                             sensor id whatever it asks for, so it can never take over the
 *                             ingest's client id (Mosquitto has no per-client-id ACL)
 *   services  (default 1885)  ingest@<app>: reads city/sensors/#, its session status topics;
 *                             gateway@<name>: writes city/sensors/+/+. Device passwords do not
 *                             open this listener.
 *
 * Mosquitto cannot compute an HMAC, so every device it should admit is listed (one sensor id a
 * line in a devices file); `mosquitto_passwd -U` hashes the files in place (PBKDF2-SHA512).
 */
export interface MosquittoAuthOptions {
  readonly dir: string;
  readonly secret: string;
  readonly applications: readonly string[];
  readonly devices: readonly string[];
  readonly gateways: readonly string[];
  readonly devicePort: number;
  readonly servicePort: number;
  readonly host?: string;
  /** default: mosquitto_passwd on the PATH */
  readonly passwdCommand?: string;
}

export interface MosquittoAuthFiles {
  /** listeners to `include_dir` into mosquitto.conf */
  readonly conf: string;
}

const SENSOR_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export async function writeMosquittoAuth(options: MosquittoAuthOptions): Promise<MosquittoAuthFiles> {
  for (const device of options.devices) {
    if (!SENSOR_ID.test(device)) throw new Error(`device "${device.slice(0, 80)}" is not a sensor id`);
    // a device named like an ingest session would own that session's client id on the devices listener
    if (options.applications.some((app) => device.startsWith(ingestClientIdPrefix(app))))
      throw new Error(`device "${device}" is named like an ingest client id`);
  }
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const host = options.host ?? "127.0.0.1";
  const devicesPasswd = join(options.dir, "passwd-devices");
  const servicesPasswd = join(options.dir, "passwd-services");
  const devicesAcl = join(options.dir, "acl-devices");
  const servicesAcl = join(options.dir, "acl-services");
  const passwordLine = (username: string) => {
    const { password } = credentialsFor(options.secret, username);
    return `${username}:${password}\n`;
  };
  writeSecretFile(devicesPasswd, options.devices.map(passwordLine).join(""));
  writeSecretFile(
    servicesPasswd,
    [...options.applications.map(ingestUsername), ...options.gateways.map(gatewayUsername)]
      .map(passwordLine)
      .join(""),
  );
  await hashInPlace(options.passwdCommand ?? "mosquitto_passwd", devicesPasswd);
  await hashInPlace(options.passwdCommand ?? "mosquitto_passwd", servicesPasswd);
  writeFileSync(devicesAcl, "# a device writes its own readings only\npattern write city/sensors/+/%u\n");
  const services = [
    ...options.applications.flatMap((app) => [
      `user ${ingestUsername(app)}`,
      "topic read city/sensors/#",
      `topic readwrite platform/${app}/ingest-sessions/#`,
    ]),
    ...options.gateways.flatMap((name) => [`user ${gatewayUsername(name)}`, "topic write city/sensors/+/+"]),
  ];
  writeFileSync(servicesAcl, `${services.join("\n")}\n`);
  const conf = join(options.dir, "auth.conf");
  writeFileSync(
    conf,
    [
      "# written by infra/mosquitto/mosquitto-auth.ts: the authenticated listeners",
      `listener ${options.devicePort} ${host}`,
      "allow_anonymous false",
      "use_username_as_clientid true",
      `password_file ${devicesPasswd}`,
      `acl_file ${devicesAcl}`,
      `listener ${options.servicePort} ${host}`,
      "allow_anonymous false",
      `password_file ${servicesPasswd}`,
      `acl_file ${servicesAcl}`,
      "",
    ].join("\n"),
  );
  return { conf };
}

function writeSecretFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

async function hashInPlace(command: string, file: string): Promise<void> {
  // mosquitto_passwd -U fails on an empty file (no devices listed: MQTT_DEVICES_FILE unset),
  // and an empty password file is what Mosquitto should read then: nobody may log in there
  if (readFileSync(file, "utf8").trim().length === 0) return;
  const proc = Bun.spawn([command, "-U", file], { stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  // mosquitto_passwd's messages name the file, never a password
  if (code !== 0) throw new Error(`${command} -U ${file} failed (${code}): ${stderr.trim().slice(0, 300)}`);
}
