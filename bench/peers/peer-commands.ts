import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { resolveKafkaLogOptions } from "../../log/kafka/kafka-options.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/** Where the two sides live and how each is started (both take the same arguments). */
export const REPO = join(import.meta.dir, "..", "..");
export const KAFKA_STREAMS_DIR = join(REPO, "bench", "peers", "kafka-streams");
export const KAFKA_STREAMS_JAR = join(KAFKA_STREAMS_DIR, "target", "lib", "iot-stream-processor-1.0.0.jar");
export const KAFKA_VERSION = "4.1.1";
export const KAFKA_LIB = join(REPO, "infra", ".cache", "kafka", KAFKA_VERSION, "lib");

export interface SideArgs {
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
  readonly records: number;
  readonly graceMs: number;
  readonly timeoutSeconds: number;
  /** both sides' commit interval (ours: checkpoint + changelog flush + commit) */
  readonly commitIntervalMs: number;
}

/**
 * The Kafka Streams configurations the benchmark runs: its default (a RocksDB window store with
 * a changelog), the cheaper in-memory window store with a changelog, and in-memory without one
 * (no fault-tolerant state at all). Passed to the Java peer as PEER_KS_STORE / PEER_KS_CHANGELOG.
 */
export const KS_CONFIGS = {
  "rocksdb+changelog": { PEER_KS_STORE: "rocksdb", PEER_KS_CHANGELOG: "on" },
  "memory+changelog": { PEER_KS_STORE: "memory", PEER_KS_CHANGELOG: "on" },
  "memory,no-changelog": { PEER_KS_STORE: "memory", PEER_KS_CHANGELOG: "off" },
} as const;
export type KsConfig = keyof typeof KS_CONFIGS;

/**
 * The codec a node's Kafka log compresses every produced batch with (outputs and changelogs):
 * log/kafka's default, which a node does not override. Both sides of the pairing send with it;
 * Kafka Streams' own default (none) would spare the peer the compression ours pays.
 */
export const NODE_COMPRESSION = resolveKafkaLogOptions({ brokers: [] }).compression;

/** the environment of a Kafka Streams run: its store configuration, commit interval and codec */
export function kafkaStreamsEnv(config: KsConfig, args: SideArgs): Record<string, string> {
  return {
    ...KS_CONFIGS[config],
    PEER_KS_COMMIT_MS: String(args.commitIntervalMs),
    PEER_KS_COMPRESSION: NODE_COMPRESSION,
  };
}

/** our side's window record cache flush: the node's default, or Kafka Streams' cadence */
export type OursFlush = "batch" | "checkpoint";

export function oursCommand(args: SideArgs, flush: OursFlush = "batch"): string[] {
  return [
    process.execPath,
    join(REPO, "bench", "peers", "ours-windowed-aggregation.ts"),
    args.brokers,
    args.input,
    args.output,
    String(args.records),
    String(args.graceMs),
    String(args.timeoutSeconds),
    String(args.commitIntervalMs),
    flush,
  ];
}

/** `cacheBytes` undefined keeps Kafka Streams' default statestore.cache.max.bytes (10 MiB) */
export function kafkaStreamsCommand(args: SideArgs, cacheBytes?: number): string[] {
  return [
    "java",
    "-Xmx1g",
    "-cp",
    `${join(KAFKA_STREAMS_DIR, "target", "lib")}/*`,
    "city.bench.IoTStreamProcessor",
    args.brokers,
    args.input,
    args.output,
    String(args.records),
    cacheBytes === undefined ? "-" : String(cacheBytes),
    String(args.graceMs),
    String(args.timeoutSeconds),
  ];
}

/** the jar exists and is newer than every source and the pom (a changed peer is built again) */
export function kafkaStreamsBuilt(): boolean {
  if (!existsSync(KAFKA_STREAMS_JAR)) return false;
  const built = statSync(KAFKA_STREAMS_JAR).mtimeMs;
  const sources = join(KAFKA_STREAMS_DIR, "src");
  const inputs = [
    join(KAFKA_STREAMS_DIR, "pom.xml"),
    ...(readdirSync(sources, { recursive: true, encoding: "utf8" }) as string[]).map((path) =>
      join(sources, path),
    ),
  ];
  return inputs.every((path) => statSync(path).mtimeMs <= built);
}

/** mvn package (quiet); fails with Maven's own output when the build does */
export async function buildKafkaStreams(timeoutMs = 300_000): Promise<void> {
  const build = Bun.spawn(["mvn", "-q", "-f", join(KAFKA_STREAMS_DIR, "pom.xml"), "package"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => build.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(build.stdout).text(),
    new Response(build.stderr).text(),
    build.exited,
  ]);
  clearTimeout(timer);
  if (exitCode !== 0 || !kafkaStreamsBuilt()) {
    throw new PlatformError(
      ErrorCodes.BENCH_PEER_FAILED,
      `mvn package of ${KAFKA_STREAMS_DIR} failed (exit ${exitCode}); Java 17+ and Maven are needed`,
      { details: { output: `${stdout}${stderr}`.slice(-2_000) } },
    );
  }
}
