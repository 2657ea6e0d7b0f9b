import { describe, expect, test } from "bun:test";
import {
  ConnackRefusal,
  createMqttAccessPolicy,
  type MqttPrincipal,
} from "../../../sources/mqtt/mqtt-access-policy.ts";
import { mqttPassword, passwordMatches } from "../../../sources/mqtt/mqtt-credentials.ts";

const secret = "policy-secret-0123456789";
const closed = createMqttAccessPolicy({ secret, allowAnonymous: false });
const open = createMqttAccessPolicy({ secret, allowAnonymous: true });
const pw = (username: string) => Buffer.from(mqttPassword(secret, username));

const device: MqttPrincipal = { kind: "device", sensorId: "traffic_1" };
const gateway: MqttPrincipal = { kind: "gateway", name: "simulator" };
const ingest: MqttPrincipal = { kind: "ingest", applicationId: "city-platform" };
const anonymous: MqttPrincipal = { kind: "anonymous" };

describe("MQTT credentials", () => {
  test("a password is the HMAC of the username: stable, and different for every username", () => {
    expect(mqttPassword(secret, "traffic_1")).toBe(mqttPassword(secret, "traffic_1"));
    expect(mqttPassword(secret, "traffic_1")).not.toBe(mqttPassword(secret, "traffic_2"));
    expect(mqttPassword("another-secret-0123", "traffic_1")).not.toBe(mqttPassword(secret, "traffic_1"));
  });

  test("a password matches only its own username", () => {
    expect(passwordMatches(secret, "traffic_1", pw("traffic_1"))).toBe(true);
    expect(passwordMatches(secret, "traffic_2", pw("traffic_1"))).toBe(false);
    expect(passwordMatches(secret, "traffic_1", undefined)).toBe(false);
    expect(passwordMatches(secret, "traffic_1", Buffer.from(""))).toBe(false);
  });
});

describe("MQTT access policy: who connects", () => {
  test.each([
    ["a device with its password", closed, "c1", "traffic_1", pw("traffic_1"), "device"],
    [
      "the ingest with its password on its own client id",
      closed,
      "city-platform-ingest-ab12",
      "ingest@city-platform",
      pw("ingest@city-platform"),
      "ingest",
    ],
    ["a gateway", closed, "sim-1", "gateway@simulator", pw("gateway@simulator"), "gateway"],
    ["anonymous on an open broker", open, "c2", undefined, undefined, "anonymous"],
  ] as const)("admits %s", (_, policy, clientId, username, password, kind) => {
    const admission = policy.admit(clientId, username, password);
    expect(admission.ok && admission.principal.kind).toBe(kind);
  });

  test.each([
    ["anonymous on a closed broker", closed, "c1", undefined, undefined, ConnackRefusal.NOT_AUTHORIZED],
    ["a wrong password", closed, "c1", "traffic_1", pw("traffic_2"), ConnackRefusal.BAD_USERNAME_OR_PASSWORD],
    [
      "a wrong password on an open broker",
      open,
      "c1",
      "traffic_1",
      Buffer.from("guess"),
      ConnackRefusal.BAD_USERNAME_OR_PASSWORD,
    ],
    [
      "a username that is no sensor id",
      closed,
      "c1",
      "traffic 1",
      pw("traffic 1"),
      ConnackRefusal.BAD_USERNAME_OR_PASSWORD,
    ],
    [
      "an ingest of no application",
      closed,
      "c1",
      "ingest@",
      pw("ingest@"),
      ConnackRefusal.BAD_USERNAME_OR_PASSWORD,
    ],
    [
      "a device taking the ingest's client id",
      closed,
      "city-platform-ingest-ab12",
      "traffic_1",
      pw("traffic_1"),
      ConnackRefusal.IDENTIFIER_REJECTED,
    ],
    [
      "anonymous taking the ingest's client id on an open broker",
      open,
      "city-platform-ingest-ab12",
      undefined,
      undefined,
      ConnackRefusal.IDENTIFIER_REJECTED,
    ],
    [
      "another application's ingest taking this one's client id",
      closed,
      "city-platform-ingest-ab12",
      "ingest@other",
      pw("ingest@other"),
      ConnackRefusal.IDENTIFIER_REJECTED,
    ],
    [
      "a gateway taking the ingest's client id",
      closed,
      "city-platform-ingest-ab12",
      "gateway@simulator",
      pw("gateway@simulator"),
      ConnackRefusal.IDENTIFIER_REJECTED,
    ],
  ] as const)("refuses %s", (_, policy, clientId, username, password, refusal) => {
    const admission = policy.admit(clientId, username, password);
    expect(admission.ok ? "admitted" : admission.refusal).toBe(refusal);
  });
});

describe("MQTT access policy: publish and subscribe", () => {
  test.each([
    [device, "city/sensors/traffic/traffic_1", true],
    [device, "city/sensors/air/traffic_1", true],
    [device, "city/sensors/traffic/traffic_2", false],
    [device, "city/sensors/traffic/traffic_1/extra", false],
    [device, "platform/city-platform/ingest-sessions/city-platform-ingest-ab12", false],
    [gateway, "city/sensors/traffic/traffic_9", true],
    [gateway, "platform/city-platform/ingest-sessions/x", false],
    [ingest, "platform/city-platform/ingest-sessions/city-platform-ingest-ab12", true],
    [ingest, "platform/other/ingest-sessions/x", false],
    [ingest, "city/sensors/traffic/traffic_1", false],
    [anonymous, "city/sensors/traffic/traffic_1", true],
    [anonymous, "platform/city-platform/ingest-sessions/x", false],
    [anonymous, "$SYS/broker/x", false],
  ] as const)("%o may publish to %s: %p", (principal, topic, allowed) => {
    expect(open.mayPublish(principal, topic)).toBe(allowed);
  });

  test.each([
    [device, "#", false],
    [device, "city/sensors/#", false],
    [device, "city/sensors/traffic/traffic_1", false],
    [gateway, "city/sensors/#", false],
    [ingest, "city/sensors/#", true],
    [ingest, "$share/city-platform/city/sensors/#", true],
    [ingest, "$share/other/city/sensors/#", false],
    [ingest, "platform/city-platform/ingest-sessions/+", true],
    [ingest, "platform/other/ingest-sessions/+", false],
    [ingest, "#", false],
    [ingest, "+/sensors/#", false],
    [anonymous, "#", true],
    [anonymous, "$SYS/#", false],
  ] as const)("%o may subscribe to %s: %p", (principal, filter, allowed) => {
    expect(open.maySubscribe(principal, filter)).toBe(allowed);
  });
});
