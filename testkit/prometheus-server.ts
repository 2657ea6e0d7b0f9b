import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(options: {
  readonly targets: readonly string[];
  readonly ruleFiles?: readonly string[];
  readonly scrapeIntervalS?: number;
  readonly job?: string;
}): Promise<PrometheusServer> {
  requirePrometheus();
  const dir = mkdtempSync(join(tmpdir(), "prometheus-test-"));
  const port = await freePort();
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
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      server.kill();
      await server.exited;
      const log = await Bun.file(join(dir, "prometheus.log")).text();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not become ready on ${url}: ${log.slice(-2000)}`);
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
