import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

/**
 * One `bun cluster.ts` process of a test application, pointed at the real Kafka broker and
 * Mosquitto, simulator off (the test publishes its own readings), its API on a free port. The
 * API URL is parsed from the node's start banner on stdout.
 */
export interface ClusterNodeOptions {
  readonly applicationId: string;
  readonly brokers: string;
  readonly mqttUrl: string;
  readonly partitions: number;
  readonly windowMs: number;
  readonly graceMs: number;
  readonly commitIntervalMs: number;
  readonly workers?: number;
  /** how long to wait for the banner */
  readonly startTimeoutMs?: number;
  /** a DATA_DIR kept across restarts (the MQTT session's client id lives there); default: a fresh one, removed on exit */
  readonly dataDir?: string;
  /** the checkout to run `cluster.ts` from (a new build in a rolling upgrade); default this one */
  readonly repoDir?: string;
}

export interface ClusterNode {
  readonly pid: number;
  readonly dataDir: string;
  readonly apiUrl: string;
  readonly exited: Promise<number>;
  /** everything the process printed so far (stdout and stderr) */
  output(): string;
  killHard(): Promise<void>;
  /** SIGTERM (drain, flush, commit), SIGKILL after `timeoutMs` */
  stop(timeoutMs?: number): Promise<void>;
}

const REPO = join(import.meta.dir, "..");

export async function spawnClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "scale-out-node-"));
  const args = [
    "cluster.ts",
    ...["--kafka", options.brokers, "--mqtt", options.mqttUrl, "--app-id", options.applicationId],
    ...["--no-simulator", "--quiet", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
    ...["--workers", String(options.workers ?? 1), "--partitions", String(options.partitions)],
    ...["--window-ms", String(options.windowMs), "--grace-ms", String(options.graceMs)],
    ...["--commit-interval-ms", String(options.commitIntervalMs)],
  ];
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([process.execPath, ...args], {
    cwd: options.repoDir ?? REPO,
    // the node takes its servers from the flags only (QUESTDB_URL too: the time series stay embedded)
    env: { ...process.env, KAFKA_BROKERS: "", MQTT_URL: "", PORT: "", DATA_DIR: "", QUESTDB_URL: "" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const collecting = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const exited = proc.exited.then(async (code) => {
    await collecting;
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    return code;
  });

  // a node start reads models, registries and reference tables: tens of seconds on a busy 2-core machine
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  let apiUrl: string | undefined;
  while (apiUrl === undefined) {
    apiUrl = /API\s+(http:\/\/\S+)/.exec(text)?.[1];
    if (apiUrl) break;
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      await exited;
      throw new Error(`cluster node did not start (exit ${proc.exitCode ?? proc.signalCode}):\n${text}`);
    }
    await Bun.sleep(50);
  }

  return {
    pid: proc.pid,
    dataDir,
    apiUrl,
    exited,
    output: () => text,
    async killHard() {
      proc.kill("SIGKILL");
      await exited;
    },
    // past the node's own stop budget (STOP_TIMEOUT_MS, 20 s by default) and its 5 s backstop
    async stop(timeoutMs = 30_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await response.json()) as T;
}

export interface OwnersView {
  owners: { partition: number; owner?: { member: string; api: string; partitions: number[] } }[];
}

/** partitions each member claims, from one node's GET /api/owners */
export async function ownersSeenBy(node: ClusterNode): Promise<Map<string, number[]>> {
  const view = await getJson<OwnersView>(`${node.apiUrl}/api/owners`);
  const byApi = new Map<string, number[]>();
  for (const { partition, owner } of view.owners)
    if (owner) byApi.set(owner.api, [...(byApi.get(owner.api) ?? []), partition]);
  return byApi;
}

/** poll `probe` until `done` holds (a failed probe counts as not yet), or fail naming `what` */
export async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}
