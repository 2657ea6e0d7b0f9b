import { afterEach, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import {
  mosquittoInstalled,
  type PrivateMosquitto,
  startPrivateMosquitto,
} from "../../testkit/mosquitto-server.ts";
import { type PortSquatter, squatPort } from "./port-squatter.ts";

const skip = process.env.SKIP_INFRA_TESTS === "1" || !mosquittoInstalled();
const accounts = {
  secret: "mosquitto-test-secret-0123456789",
  applications: ["app"],
  devices: [],
  gateways: [],
};

describe.skipIf(skip)("a private Mosquitto for a test", () => {
  const servers: PrivateMosquitto[] = [];
  const squatters: PortSquatter[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const squatter of squatters.splice(0)) await squatter.release();
  });

  // regression: a full suite run failed once with "Address already in use" when another process
  // bound a port between freePort() answering and Mosquitto listening on it
  test("starts on other ports when a port it chose is taken before it binds", async () => {
    const squatter = await squatPort(0);
    squatters.push(squatter);

    const server = await startPrivateMosquitto({ ...accounts, choosePort: squatter.choosePort });
    servers.push(server);

    expect(squatter.handedOut()).toBeGreaterThan(3);
    expect(server.anonymousUrl).not.toContain(`:${squatter.port}`);
    const client = await mqtt.connectAsync(server.anonymousUrl, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    await client.endAsync();
  });
});
