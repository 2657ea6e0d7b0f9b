import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { type EmbeddedLogOptions, openEmbeddedLog } from "./embedded/index.ts";
import type { Log } from "./log.ts";

export type { EmbeddedLogOptions } from "./embedded/index.ts";
export type * from "./log.ts";

/** The embedded log in one SQLite file: the zero-setup default. */
export interface EmbeddedLogConfig extends EmbeddedLogOptions {
  readonly kind: "embedded";
}

/** Apache Kafka through log/kafka/; options besides `brokers` go to `openKafkaLog` unchanged. */
export interface KafkaLogConfig {
  readonly kind: "kafka";
  readonly brokers: readonly string[];
  readonly [option: string]: unknown;
}

export type LogConfig = EmbeddedLogConfig | KafkaLogConfig;

interface KafkaLogModule {
  openKafkaLog(options: Omit<KafkaLogConfig, "kind">): Log | Promise<Log>;
}

/** Open the Log the configuration names; the Kafka client is loaded only when asked for. */
export async function openLog(config: LogConfig): Promise<Log> {
  if (config.kind === "embedded") {
    const { kind: _, ...options } = config;
    return openEmbeddedLog(options);
  }
  if (config.kind === "kafka") {
    const { kind: _, ...options } = config;
    // a path in a variable keeps this file compiling and loading without the Kafka adapter
    const adapterPath = "./kafka/index.ts";
    const adapter = (await import(adapterPath)) as KafkaLogModule;
    return adapter.openKafkaLog(options);
  }
  const kind = (config as { kind: unknown }).kind;
  throw new PlatformError(ErrorCodes.CONFIG_INVALID, `unknown log kind ${String(kind)}`, {
    details: { kind },
  });
}
