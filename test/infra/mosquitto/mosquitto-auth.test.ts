import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { writeMosquittoAuth } from "../../../infra/mosquitto/mosquitto-auth.ts";
import { credentialsFor, ingestUsername } from "../../../sources/mqtt/mqtt-credentials.ts";
import { createMqttSubscriber } from "../../../sources/mqtt/mqtt-subscriber.ts";
import {
  mosquittoInstalled,
  type PrivateMosquitto,
  startPrivateMosquitto,
} from "../../../testkit/mosquitto-server.ts";
import { mqttAccessContract } from "../../sources/mqtt/mqtt-access.contract.ts";

/**
 * Mosquitto with the password and ACL files infra/ writes (a private instance from the same
 * mosquitto.conf and mosquitto-auth.ts, so the shared broker on 1883 is left alone) keeps the
 * access contract the embedded broker keeps, over MQTT 5 and MQTT 3.1.1.
 */
const skip = process.env.SKIP_INFRA_TESTS === "1" || !mosquittoInstalled();
const secret = "mosquitto-test-secret-0123456789";
const applicationId = "access-app";
const devices = ["traffic-1", "traffic-2"];
const servers: PrivateMosquitto[] = [];

const start = (protocolVersion: 4 | 5) => async () => {
  const server = await startPrivateMosquitto({
    secret,
    applications: [applicationId],
    devices,
    gateways: ["simulator"],
  });
  servers.push(server);
  return {
    protocolVersion,
    deviceUrl: server.deviceUrl,
    serviceUrl: server.serviceUrl,
    secret,
    applicationId,
    devices,
    stop: () => server.stop(),
  };
};

if (!skip) {
  mqttAccessContract("Mosquitto with infra's password and ACL files (MQTT 5)", start(5));
  mqttAccessContract("Mosquitto with infra's password and ACL files (MQTT 3.1.1)", start(4));
}

describe.skipIf(skip)("Mosquitto's listeners from infra/mosquitto", () => {
  let server: PrivateMosquitto;
  beforeAll(async () => {
    server = await startPrivateMosquitto({ secret, applications: [applicationId], devices, gateways: [] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("the anonymous listener stays open as before", async () => {
    const client = await mqtt.connectAsync(server.anonymousUrl, { reconnectPeriod: 0 });
    await client.endAsync();
  });

  test("the ingest's shared subscription ($share/<app>/city/sensors/#) is granted on the services listener", async () => {
    const received: string[] = [];
    const ingest = createMqttSubscriber({
      url: server.serviceUrl,
      protocolVersion: 5,
      clientId: `${applicationId}-ingest-share1`,
      credentials: credentialsFor(secret, ingestUsername(applicationId)),
      topics: [`$share/${applicationId}/city/sensors/#`],
      onBatch: (batch) => {
        for (const m of batch) received.push(m.topic);
      },
    });
    await ingest.start();
    try {
      const sensor = await mqtt.connectAsync(server.deviceUrl, {
        reconnectPeriod: 0,
        ...credentialsFor(secret, devices[0]!),
      });
      await sensor.publishAsync(`city/sensors/traffic/${devices[0]}`, "shared", { qos: 1 });
      await sensor.endAsync();
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(received).toEqual([`city/sensors/traffic/${devices[0]}`]);
    } finally {
      await ingest.stop();
    }
  });
});

afterAll(async () => {
  for (const server of servers) await server.stop().catch(() => undefined);
});

describe("Mosquitto's auth files", () => {
  test.each([
    ["a device named like an ingest client id", `${applicationId}-ingest-abc`],
    ["a device that is no sensor id", "traffic 1"],
  ])("refuse %s", async (_, device) => {
    const dir = mkdtempSync(join(tmpdir(), "mosquitto-auth-files-"));
    try {
      await expect(
        writeMosquittoAuth({
          dir,
          secret,
          applications: [applicationId],
          devices: [device],
          gateways: [],
          devicePort: 1,
          servicePort: 2,
        }),
      ).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(skip)("hold hashes, never the passwords themselves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mosquitto-auth-files-"));
    try {
      await writeMosquittoAuth({
        dir,
        secret,
        applications: [applicationId],
        devices,
        gateways: ["simulator"],
        devicePort: 1,
        servicePort: 2,
      });
      const text =
        readFileSync(join(dir, "passwd-devices"), "utf8") +
        readFileSync(join(dir, "passwd-services"), "utf8");
      expect(text).not.toContain(credentialsFor(secret, devices[0]!).password);
      expect(text).not.toContain(credentialsFor(secret, ingestUsername(applicationId)).password);
      expect(text).toContain(`${devices[0]}:$7$`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
