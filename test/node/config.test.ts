import { describe, expect, test } from "bun:test";
import { loadNodeConfig } from "../../node/config.ts";

const KEY = "k".repeat(32);

describe("the API's bind address", () => {
  test.each([
    ["no credential: this machine only", {}, "127.0.0.1"],
    ["ADMIN_API_KEY: every interface", { ADMIN_API_KEY: KEY }, "0.0.0.0"],
    [
      "a JWKS: every interface",
      { JWT_JWKS_URL: "https://issuer.example/jwks.json", JWT_ISSUER: "i", JWT_AUDIENCE: "a" },
      "0.0.0.0",
    ],
    ["HOST wins over the default", { HOST: "0.0.0.0" }, "0.0.0.0"],
    ["HOST wins with a credential too", { HOST: "127.0.0.1", ADMIN_API_KEY: KEY }, "127.0.0.1"],
  ] as const)("%s", (_name, env, host) => {
    expect(loadNodeConfig(env, []).host).toBe(host);
  });
});

describe("access settings that do not hold together are refused at start", () => {
  test.each([
    ["a short ADMIN_API_KEY", { ADMIN_API_KEY: "short" }, /32 characters/],
    [
      "a JWKS without issuer and audience",
      { JWT_JWKS_FILE: "/tmp/jwks.json" },
      /JWT_ISSUER and JWT_AUDIENCE/,
    ],
    [
      "two JWKS sources",
      { JWT_JWKS_FILE: "/a", JWT_JWKS_URL: "https://x.example/j", JWT_ISSUER: "i", JWT_AUDIENCE: "a" },
      /not both/,
    ],
    ["a certificate without its key", { TLS_CERT_FILE: "/tmp/cert.pem" }, /TLS_KEY_FILE/],
    ["a CORS entry that is not an origin", { CORS_ORIGINS: "https://ok.example,*" }, /origins/],
    ["a CORS origin with a path", { CORS_ORIGINS: "https://ok.example/app" }, /origins/],
  ] as const)("%s", (_name, env, message) => {
    expect(() => loadNodeConfig(env, [])).toThrow(message);
  });

  test("the refusal never echoes the key", () => {
    let message = "";
    try {
      loadNodeConfig({ ADMIN_API_KEY: "secret-but-short" }, []);
    } catch (error) {
      message = String(error);
    }
    expect(message).not.toContain("secret-but-short");
  });
});

describe("the window updates' flush (WINDOW_UPDATE_FLUSH)", () => {
  test.each([
    ["unset: per batch, the node's default (the live feed's latency)", {}, [], "batch"],
    ["the variable", { WINDOW_UPDATE_FLUSH: "checkpoint" }, [], "checkpoint"],
    ["the flag", {}, ["--window-update-flush", "checkpoint"], "checkpoint"],
  ] as const)("%s", (_name, env, argv, flush) => {
    expect(loadNodeConfig(env, [...argv]).windowUpdateFlush).toBe(flush);
  });

  test("anything else is refused at start", () => {
    expect(() => loadNodeConfig({ WINDOW_UPDATE_FLUSH: "commit" }, [])).toThrow();
  });
});

describe("MQTT_INGEST_THREAD", () => {
  test.each([
    [undefined, "main"],
    ["", "main"],
    ["main", "main"],
    ["broker", "broker"],
  ] as const)("%p runs the ingest's subscriber on the %s thread", (value, thread) => {
    expect(loadNodeConfig({ MQTT_INGEST_THREAD: value }, []).mqttIngestThread).toBe(thread);
  });
  test("another value is refused", () => {
    expect(() => loadNodeConfig({ MQTT_INGEST_THREAD: "worker" }, [])).toThrow("mqttIngestThread");
  });
});
