import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { type EmbeddedNodeProcess, embeddedNodeOnMqttPort } from "../../testkit/embedded-node-process.ts";
import { type PortSquatter, squatPort } from "./port-squatter.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// regression: the kill -9 test of the embedded broker took its MQTT port from freePort(); taken
// before the node bound it, the node moved its broker to another port and the device, still
// pointed at the chosen one, never reached it
test("a node whose chosen MQTT port was taken before it bound starts again on another port, and restarts on that one", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "node-mqtt-port-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const squatter: PortSquatter = await squatPort(0);
  cleanups.push(() => squatter.release());
  const nodes: EmbeddedNodeProcess[] = [];
  cleanups.push(async () => {
    for (const node of nodes) {
      node.proc.kill("SIGKILL");
      await node.proc.exited;
    }
  });

  const started = await embeddedNodeOnMqttPort({ dataDir, simulate: false }, squatter.choosePort);
  nodes.push(started.node);
  expect(squatter.handedOut()).toBe(2);
  expect(started.mqttPort).not.toBe(squatter.port);
  started.node.proc.kill("SIGKILL");
  await started.node.proc.exited;
  const again = await started.restart();
  nodes.push(again);

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${started.mqttPort}`, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  await device.endAsync();
}, 180_000);
