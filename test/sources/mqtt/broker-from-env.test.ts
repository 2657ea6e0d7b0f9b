import { describe, expect, test } from "bun:test";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { mqttBrokerFromEnv } from "../../../sources/mqtt/broker-from-env.ts";
import { createExternalBroker } from "../../../sources/mqtt/external-broker.ts";

describe("broker choice", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["no MQTT_URL gives the embedded aedes broker", {}, "aedes"],
    ["an empty MQTT_URL gives the embedded aedes broker", { MQTT_URL: " " }, "aedes"],
    [
      "MQTT_URL gives an external broker and starts nothing",
      { MQTT_URL: "mqtt://127.0.0.1:1883" },
      "external",
    ],
  ];
  test.each(cases)("%s", (_name, env, kind) => {
    expect(mqttBrokerFromEnv(env).name).toBe(kind);
  });

  test("an external broker reports its URL as given", async () => {
    const broker = createExternalBroker("mqtt://127.0.0.1:1883");
    await broker.start();
    expect(broker.url()).toBe("mqtt://127.0.0.1:1883");
    await broker.stop();
  });

  const badUrls: [string][] = [["not a url"], ["http://127.0.0.1:1883"]];
  test.each(badUrls)("an external broker refuses MQTT_URL %p with CONFIG_INVALID", (url) => {
    let caught: unknown;
    try {
      createExternalBroker(url);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, ErrorCodes.CONFIG_INVALID)).toBe(true);
  });
});
