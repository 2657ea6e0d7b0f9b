/**
 * Writes Mosquitto's password and ACL files and its authenticated listeners (see
 * mosquitto-auth.ts). Called by `infra/up.sh` before Mosquitto starts:
 *   MQTT_DEVICE_SECRET=... bun infra/mosquitto/write-auth.ts <dir>
 * Environment: MQTT_DEVICE_SECRET (required), MQTT_APPLICATIONS (default city-platform),
 * MQTT_DEVICES_FILE (one sensor id a line; default none), MQTT_GATEWAYS (default simulator),
 * MQTT_AUTH_DEVICE_PORT (1884), MQTT_AUTH_SERVICE_PORT (1885).
 */
import { readFileSync } from "node:fs";
import { writeMosquittoAuth } from "./mosquitto-auth.ts";

const list = (value: string | undefined, fallback: string[]) =>
  value === undefined
    ? fallback
    : value
        .split(/[\s,]+/)
        .map((item) => item.trim())
        .filter((item) => item.length > 0);

const dir = process.argv[2];
const secret = process.env.MQTT_DEVICE_SECRET ?? "";
if (!dir || secret.length < 16) {
  console.error("usage: MQTT_DEVICE_SECRET=<at least 16 characters> bun infra/mosquitto/write-auth.ts <dir>");
  process.exit(2);
}
const devicesFile = process.env.MQTT_DEVICES_FILE;
const { conf } = await writeMosquittoAuth({
  dir,
  secret,
  applications: list(process.env.MQTT_APPLICATIONS, ["city-platform"]),
  devices: devicesFile
    ? readFileSync(devicesFile, "utf8")
        .split("\n")
        .map((line) => line.replace(/#.*/, "").trim())
        .filter((line) => line.length > 0)
    : [],
  gateways: list(process.env.MQTT_GATEWAYS, ["simulator"]),
  devicePort: Number(process.env.MQTT_AUTH_DEVICE_PORT ?? 1884),
  servicePort: Number(process.env.MQTT_AUTH_SERVICE_PORT ?? 1885),
});
console.log(conf);
