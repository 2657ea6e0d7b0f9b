import { join } from "node:path";
import type { Subprocess } from "bun";
import { PortTakenError, restartOnSamePorts, startOnFreePorts } from "./free-port.ts";

/**
 * A whole node as its own `bun run cluster` process on the embedded log in `dataDir`, for the
 * tests that kill one with -9 mid-stream and start it again on the same data (the sinks' kill
 * tests: time series, lake, feature store). Every server is embedded (Kafka, MQTT and QuestDB
 * unset unless `env` names one), one worker, 4 partitions, 2 s windows with 0.5 s grace, commits
 * every 200 ms; with `simulate` the built-in simulator runs (`rate` readings/s from `sensors` per type).
 */
const REPO = join(import.meta.dir, "..");

export interface EmbeddedNodeProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly apiUrl: string;
  output(): string;
}

export interface EmbeddedNodeOptions {
  readonly dataDir: string;
  readonly simulate: boolean;
  readonly rate?: number;
  readonly sensors?: number;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

export async function spawnEmbeddedNode(options: EmbeddedNodeOptions): Promise<EmbeddedNodeProcess> {
  const args = [
    ...["cluster.ts", "--quiet", "--port", "0", "--host", "127.0.0.1", "--mqtt-port", "0"],
    ...["--data-dir", options.dataDir, "--workers", "1", "--partitions", "4"],
    ...["--window-ms", "2000", "--grace-ms", "500", "--commit-interval-ms", "200"],
    ...(options.simulate
      ? ["--rate", String(options.rate ?? 400), "--sensors", String(options.sensors ?? 20)]
      : ["--no-simulator"]),
    ...(options.args ?? []),
  ];
  const proc = Bun.spawn([process.execPath, ...args], {
    cwd: REPO,
    env: {
      ...process.env,
      ...{ KAFKA_BROKERS: "", MQTT_URL: "", PORT: "", DATA_DIR: "", QUESTDB_URL: "", REDIS_URL: "" },
      ...options.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  void Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    const apiUrl = /API\s+(http:\/\/\S+)/.exec(text)?.[1];
    if (apiUrl) return { proc, apiUrl, output: () => text };
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`node did not start:\n${text}`);
    }
    await Bun.sleep(50);
  }
}

/** a per-sink metric's value from the node's /metrics (NaN when the sink has none yet) */
export async function sinkMetric(node: EmbeddedNodeProcess, name: string, sink: string): Promise<number> {
  const text = await (await fetch(`${node.apiUrl}/metrics`)).text();
  const match = new RegExp(`^${name}\\{sink="${sink}"\\} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** polls `probe` (a failing probe counts as false) until true, or throws naming `what` */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/**
 * A node whose embedded MQTT broker listens on a port the test chose, so its device can reconnect
 * to the same address across a kill -9. A port the OS called free may be taken before the node
 * binds it, and the node then moves its broker to another port (node/edge.ts): the first start
 * chooses another port, a restart (the device knows the port) tries the same one again while
 * its holder lets go. Each try that misses the port stops its node.
 */
export async function embeddedNodeOnMqttPort(
  options: EmbeddedNodeOptions,
  choosePort?: () => Promise<number>,
): Promise<{ node: EmbeddedNodeProcess; restart: () => Promise<EmbeddedNodeProcess>; mqttPort: number }> {
  const startOn = async (port: number) => {
    const node = await spawnEmbeddedNode({
      ...options,
      args: [...(options.args ?? []), "--mqtt-port", String(port)],
    });
    const deadline = Date.now() + 10_000;
    let url = /MQTT\s+(mqtt:\/\/\S+)/.exec(node.output())?.[1];
    while (url === undefined && Date.now() < deadline && node.proc.exitCode === null) {
      await Bun.sleep(20);
      url = /MQTT\s+(mqtt:\/\/\S+)/.exec(node.output())?.[1];
    }
    if (url !== undefined && Number(new URL(url).port) === port) return node;
    node.proc.kill("SIGKILL");
    await node.proc.exited;
    const message = `the node's MQTT broker is not on port ${port} (${url ?? "no MQTT line"}):\n${node.output().slice(-2000)}`;
    throw url === undefined ? new Error(message) : new PortTakenError(message);
  };
  let mqttPort = 0;
  const node = await startOnFreePorts(
    1,
    async ([port]) => {
      mqttPort = port as number;
      return startOn(mqttPort);
    },
    { choosePort },
  );
  return { node, mqttPort, restart: () => restartOnSamePorts(() => startOn(mqttPort)) };
}
