import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChoosePort, PortTakenError, saysPortTaken, startOnFreePorts } from "./free-port.ts";

// the benchmarks took their ports from here before testkit/free-port.ts held them
export { freePort } from "./free-port.ts";

/**
 * A real Prometheus (Debian's `prometheus` package) for tests: its own config written at start,
 * scraping the given targets every `scrapeIntervalS`, with the given rule files, on a free
 * loopback port, its TSDB in a temp folder removed at stop.
 */
export const PROMETHEUS_PATH = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";
export const PROMTOOL_PATH = process.env.PROMTOOL_PATH ?? "/usr/bin/promtool";

export interface PrometheusServer {
  readonly url: string;
  /** an instant query through the HTTP API; the API's error type and message when it fails */
  query(expr: string): Promise<PrometheusQueryResult>;
  stop(): Promise<void>;
}

export type PrometheusQueryResult =
  | { readonly ok: true; readonly series: { metric: Record<string, string>; value: [number, string] }[] }
  | { readonly ok: false; readonly error: string };

export function requirePrometheus(): void {
  for (const path of [PROMETHEUS_PATH, PROMTOOL_PATH])
    if (!existsSync(path))
      throw new Error(
        `${path} is missing: run scripts/install-test-tools.sh (apt-get install -y prometheus), or set PROMETHEUS_PATH / PROMTOOL_PATH`,
      );
}

export interface PrometheusOptions {
  readonly targets: readonly string[];
  readonly ruleFiles?: readonly string[];
  readonly scrapeIntervalS?: number;
  readonly job?: string;
  /** where its port comes from; default a port the OS calls free (a test may hand out a taken one) */
  readonly choosePort?: ChoosePort;
}

/** a port taken between choosing it and Prometheus binding it ("bind: address already in use") means another port */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  requirePrometheus();
  return startOnFreePorts(1, ([port]) => startOnPort(options, port as number), {
    choosePort: options.choosePort,
  });
}

async function startOnPort(options: PrometheusOptions, port: number): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), "prometheus-test-"));
  const interval = `${options.scrapeIntervalS ?? 1}s`;
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(options.ruleFiles?.length
      ? ["rule_files:", ...options.ruleFiles.map((file) => `  - ${JSON.stringify(file)}`)]
      : []),
    "scrape_configs:",
    `  - job_name: ${JSON.stringify(options.job ?? "streaming-ml")}`,
    "    static_configs:",
    `      - targets: ${JSON.stringify(options.targets)}`,
  ].join("\n");
  writeFileSync(join(dir, "prometheus.yml"), `${config}\n`);
  const server = Bun.spawn(
    [
      PROMETHEUS_PATH,
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    // a file, not a pipe nobody reads, which would block Prometheus once full
    { stdout: Bun.file(join(dir, "prometheus.log")), stderr: Bun.file(join(dir, "prometheus.log")) },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await servesConfig(url, join(dir, "prometheus.yml"))) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      server.kill();
      await server.exited;
      const log = await Bun.file(join(dir, "prometheus.log")).text();
      rmSync(dir, { recursive: true, force: true });
      const message = `prometheus did not become ready on ${url}: ${log.slice(-2000)}`;
      throw saysPortTaken(log) ? new PortTakenError(message) : new Error(message);
    }
    await Bun.sleep(100);
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query: expr }),
      });
      const body = (await response.json()) as {
        status: string;
        errorType?: string;
        error?: string;
        data?: { resultType: string; result: unknown };
      };
      if (body.status !== "success") return { ok: false, error: `${body.errorType}: ${body.error}` };
      const result = body.data?.result;
      // a scalar answers [time, value]: one series without labels
      const series = body.data?.resultType === "scalar" ? [{ metric: {}, value: result }] : result;
      return { ok: true, series: series as { metric: Record<string, string>; value: [number, string] }[] };
    },
    async stop() {
      server.kill("SIGTERM");
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Ready, and ours: another Prometheus that took the port would answer `/-/ready` too, but not
 * with this run's config file among its flags.
 */
async function servesConfig(url: string, configFile: string): Promise<boolean> {
  try {
    // bounded: whatever holds the port may accept and never answer
    const signal = AbortSignal.timeout(2000);
    if (!(await fetch(`${url}/-/ready`, { signal })).ok) return false;
    const flags = (await (await fetch(`${url}/api/v1/status/flags`, { signal })).json()) as {
      data?: Record<string, string>;
    };
    return flags.data?.["config.file"] === configFile;
  } catch {
    // not listening yet (refused), or something on the port that does not speak Prometheus' API
    return false;
  }
}
