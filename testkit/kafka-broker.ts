import { parseBrokers } from "../log/kafka/index.ts";

/**
 * The broker the Kafka tests run against: KAFKA_BROKERS or the one `bun run infra:up kafka`
 * starts. A missing broker fails the tests with a clear message, unless SKIP_KAFKA_TESTS=1.
 */
export const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "127.0.0.1:9092");
export const skipKafka = process.env.SKIP_KAFKA_TESTS === "1";

/** a TCP connection to host:port opens (the server is up; it may still be starting) */
export async function portOpen(host: string, port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export function brokerReachable(): Promise<boolean> {
  const [host, port] = brokers[0]!.split(":");
  return portOpen(host ?? "127.0.0.1", Number(port ?? 9092));
}

export async function requireBroker(): Promise<void> {
  if (skipKafka) return;
  if (!(await brokerReachable())) {
    throw new Error(
      `no Kafka broker at ${brokers.join(",")}: start one with \`bun run infra:up kafka\` (or set KAFKA_BROKERS), or set SKIP_KAFKA_TESTS=1 to skip these tests`,
    );
  }
}
