/**
 * `bun run cluster`: one node of the platform with everything embedded (bun:sqlite log, aedes
 * MQTT broker, simulated sensors) unless the environment names real systems (KAFKA_BROKERS,
 * MQTT_URL). Flags and variables are listed in the README under Configuration.
 */

import type { NodeConfig } from "./node/config.ts";
import type { RunningNode } from "./node/start-node.ts";

/**
 * The process that launched this one, read first thing, before the platform's modules load: the
 * wrapper of `bun run cluster` can be killed while the node starts, and a node that read its
 * parent only after starting took the process that had adopted it for its parent and never
 * stopped (a loaded machine showed it).
 */
const launchedBy = process.ppid;
const { isPlatformError } = await import("./messages/errors.ts");
const { credentialsConfigured, loadNodeConfig } = await import("./node/config.ts");
const { startProgress } = await import("./node/progress.ts");
const { startNode } = await import("./node/start-node.ts");

/** a start that fails says why in one line (the code and cause), not with a stack trace */
async function start(): Promise<RunningNode> {
  try {
    return await startNode(loadNodeConfig(process.env, process.argv.slice(2)));
  } catch (error) {
    if (!isPlatformError(error)) throw error;
    console.error(`cannot start: ${error.message}`);
    if (error.cause instanceof Error) console.error(`  cause: ${error.cause.message}`);
    process.exit(1);
  }
}

/** who may call the API, and how to open it up safely when nobody but this machine may */
function accessLines(config: NodeConfig): string[] {
  if (credentialsConfigured(config)) {
    const ways = [
      config.adminApiKey ? "API keys (ADMIN_API_KEY set)" : "API keys",
      config.jwtIssuer ? `JWTs from ${config.jwtIssuer}` : "",
    ];
    return [
      `  access     ${ways.filter(Boolean).join(" and ")} required on ${config.host} (roles viewer, operator, admin); manage keys with 'bun run keys'`,
    ];
  }
  return [
    `  access     development mode: no credential configured, so callers on this machine are admin and everyone else gets 401 (bound to ${config.host})`,
    "             to expose the node: set ADMIN_API_KEY (32+ random characters) or JWT_JWKS_URL + JWT_ISSUER + JWT_AUDIENCE,",
    "             create keys with 'bun run keys create --name <who> --role viewer', and use TLS_CERT_FILE + TLS_KEY_FILE for HTTPS",
  ];
}

const startedAt = performance.now();
const node = await start();
const config = node.config;
const wsUrl = node.apiUrl.replace(/^http/, "ws");
console.log(
  [
    `streaming-ml node '${config.applicationId}' up in ${Math.round(performance.now() - startedAt)} ms`,
    `  API        ${node.apiUrl}  (GET /health, /api/v1/sensors, /api/v1/predictions, /api/v1/alerts, /api/v1/supervision)`,
    `  docs       ${node.apiUrl}/docs  (OpenAPI 3.1 at /openapi.json)`,
    ...accessLines(config),
    `  WebSocket  ${wsUrl}/ws  (send {"op":"subscribe","feeds":["windows","predictions","alerts"]})`,
    `  dashboard  ${node.apiUrl}/dashboard  (operational, analytics, executive)`,
    `  metrics    ${node.apiUrl}/metrics`,
    `  MQTT       ${node.mqttUrl}  (city/sensors/<type>/<sensor_id>)`,
    `  log        ${config.kafkaBrokers ? `Kafka ${config.kafkaBrokers}` : `embedded ${config.dataDir}/log.db`}`,
    `  workers    ${node.progress().workers}, traffic model ${node.modelVersion ?? "none yet (no champion: trains once the lake holds enough windows)"}`,
    `  simulator  ${config.simulate ? `${config.sensorsPerType} sensors per type, ${config.rate} readings/s` : "off"}`,
    "Ctrl-C stops (drain, flush, commit).",
  ].join("\n"),
);
const stopProgress = config.progress
  ? startProgress(node.progress, (text) => process.stdout.write(text), { tty: process.stdout.isTTY === true })
  : () => {};

/** how far past its budget a stop may run before the process exits without it */
const STOP_BACKSTOP_MS = 5_000;
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    stopProgress();
    console.log(`\n${signal}: draining, flushing, committing (at most ${config.stopTimeoutMs} ms)...`);
    const began = performance.now();
    // the stop is bounded part by part; should one still hang, the process does not outlive
    // its budget by more than this: what was not committed is read again at the next start
    const backstop = setTimeout(() => {
      console.error(`stop: still running ${STOP_BACKSTOP_MS} ms past STOP_TIMEOUT_MS; exiting`);
      process.exit(1);
    }, config.stopTimeoutMs + STOP_BACKSTOP_MS);
    await node.stop();
    clearTimeout(backstop);
    console.log(`stopped cleanly in ${Math.round(performance.now() - began)} ms`);
    process.exit(0);
  })().catch((error: unknown) => {
    console.error("shutdown failed:", error);
    process.exit(1);
  });
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
// `bun run cluster` runs this file as a child of the `bun run` wrapper, which forwards Ctrl-C but
// dies alone on SIGKILL and leaves the node running as an orphan (adopted: its ppid changes).
// Under such a wrapper the node follows its parent out, with the same graceful stop. Started
// directly (`bun cluster.ts`, nohup, systemd) it keeps running on its own.
const PARENT_CHECK_MS = 250;
if (process.env.npm_lifecycle_event !== undefined) {
  const parentWatch = setInterval(() => {
    if (process.ppid === launchedBy) return;
    clearInterval(parentWatch);
    shutdown(`parent process ${launchedBy} exited`);
  }, PARENT_CHECK_MS);
}
if (config.durationSeconds > 0)
  setTimeout(() => shutdown(`after ${config.durationSeconds} s`), config.durationSeconds * 1000);
