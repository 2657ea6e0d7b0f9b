import { describe, expect, test } from "bun:test";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { mqttAuthFromEnv } from "../../../sources/mqtt/mqtt-auth-config.ts";
import { credentialsFor } from "../../../sources/mqtt/mqtt-credentials.ts";

const secret = "a-device-secret-of-32-characters";

describe("MQTT authentication from the environment", () => {
  test("with MQTT_DEVICE_SECRET the broker is closed and every service has derived credentials", () => {
    const auth = mqttAuthFromEnv({ MQTT_DEVICE_SECRET: secret }, "app", true);
    expect(auth.access).toEqual({ secret, allowAnonymous: false });
    expect(auth.ingest).toEqual(credentialsFor(secret, "ingest@app"));
    expect(auth.simulator).toEqual(credentialsFor(secret, "gateway@simulator"));
  });

  test("without it the embedded broker is open, but the ingest still has credentials of its own", () => {
    const a = mqttAuthFromEnv({}, "app", false);
    const b = mqttAuthFromEnv({}, "app", false);
    expect(a.access.allowAnonymous).toBe(true);
    expect(a.ingest?.username).toBe("ingest@app");
    // a random secret per process: nobody can compute the ingest's password
    expect(a.ingest?.password).not.toBe(b.ingest?.password);
    expect(a.simulator).toBeUndefined();
  });

  test("without it an external broker is used anonymously", () => {
    expect(mqttAuthFromEnv({}, "app", true).ingest).toBeUndefined();
  });

  test("a short secret is refused without being echoed", () => {
    let caught: unknown;
    try {
      mqttAuthFromEnv({ MQTT_DEVICE_SECRET: "short-secret" }, "app", false);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, ErrorCodes.CONFIG_INVALID)).toBe(true);
    expect(String((caught as Error).message)).not.toContain("short-secret");
  });
});
