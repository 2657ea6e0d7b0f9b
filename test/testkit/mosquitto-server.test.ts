import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import mqtt from "mqtt";
import {
  freePort,
  mosquittoInstalled,
  type PrivateMosquitto,
  startPrivateMosquitto,
} from "../../testkit/mosquitto-server.ts";

const skip = process.env.SKIP_INFRA_TESTS === "1" || !mosquittoInstalled();
const accounts = {
  secret: "mosquitto-test-secret-0123456789",
  applications: ["app"],
  devices: [],
  gateways: [],
};

describe.skipIf(skip)("a private Mosquitto for a test", () => {
  const servers: PrivateMosquitto[] = [];
  const squatters: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const squatter of squatters.splice(0)) await new Promise((resolve) => squatter.close(resolve));
  });

  // regression: a full suite run failed once with "Address already in use" when another process
  // bound a port between freePort() answering and Mosquitto listening on it
  test("starts on other ports when a port it chose is taken before it binds", async () => {
    const squatter = createServer();
    squatters.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const address = squatter.address();
    if (typeof address !== "object" || address === null) throw new Error("the squatter has no port");
    let handedOutTaken = false;
    const choosePort = async () => {
      if (handedOutTaken) return freePort();
      handedOutTaken = true;
      return address.port;
    };

    const server = await startPrivateMosquitto({ ...accounts, choosePort });
    servers.push(server);

    expect(server.anonymousUrl).not.toContain(`:${address.port}`);
    const client = await mqtt.connectAsync(server.anonymousUrl, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    await client.endAsync();
  });
});
