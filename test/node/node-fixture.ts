import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodeConfig, type NodeConfig } from "../../node/config.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";

export { trafficReading } from "../../testkit/traffic-reading.ts";

/** A node's config for tests: free ports, the given data dir, simulator and progress off. */
export function testNodeConfig(dataDir: string, overrides: Partial<NodeConfig> = {}): NodeConfig {
  return loadNodeConfig({}, [], {
    port: 0,
    host: "127.0.0.1",
    mqttPort: 0,
    dataDir,
    simulate: false,
    progress: false,
    workers: 0,
    partitions: 4,
    windowMs: 1000,
    graceMs: 0,
    // the news room polls on its own schedule: tests of it turn it on (test/node/news.test.ts)
    news: "off",
    // the market room streams the simulator by default: tests of it turn it on (test/node/market.test.ts)
    market: "off",
    // the lake writes Delta tables beside the stream: tests of it turn it on (test/node/lake*.test.ts)
    lake: "off",
    // the feature store follows the window topics into its online store: tests of it turn it on (test/node/features*.test.ts)
    features: "off",
    // the model lifecycle follows the traffic windows and trains on a worker: tests of it turn it on (test/node/models.test.ts)
    models: "off",
    ...overrides,
  });
}

/** A whole node on free ports and a temp data dir, simulator off: tests publish their own readings. */
export async function startTestNode(
  overrides: Partial<NodeConfig> = {},
  /** runs on the data dir before the node starts (a seeded model registry: testkit/seeded-champion.ts) */
  prepare?: (dataDir: string) => Promise<unknown>,
): Promise<{
  node: RunningNode;
  cleanup(): Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "node-test-"));
  await prepare?.(dataDir);
  const config = testNodeConfig(dataDir, overrides);
  const node = await startNode(config);
  return {
    node,
    async cleanup() {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function eventually<T>(
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await Bun.sleep(50);
    value = await probe();
  }
  // a wait that runs out fails here, with what it last saw: returning the last value let a test
  // whose condition was stricter than its assertions pass after waiting the whole time
  if (!done(value))
    throw new Error(
      `condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 500)}`,
    );
  return value;
}
