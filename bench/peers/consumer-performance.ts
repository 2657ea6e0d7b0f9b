import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The ceiling: Kafka's own consumer benchmark (org.apache.kafka.tools.ConsumerPerformance, in
 * the broker's lib/) reading the same topic with one consumer, no processing. Its CSV line is
 * start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
 * rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec. fetch.nMsg.sec excludes the
 * group join, which matches how both sides time themselves (first record to last).
 */
export interface ConsumeCeiling {
  readonly records: number;
  readonly recordsPerSecond: number;
  readonly fetchRecordsPerSecond: number;
  readonly megabytesPerSecond: number;
}

export async function consumerPerformance(
  kafkaLib: string,
  brokers: string,
  topic: string,
  records: number,
  timeoutMs: number,
): Promise<ConsumeCeiling> {
  const child = Bun.spawn(
    [
      "java",
      "-Xmx512m",
      "-cp",
      `${kafkaLib}/*`,
      "org.apache.kafka.tools.ConsumerPerformance",
      "--bootstrap-server",
      brokers,
      "--topic",
      topic,
      "--messages",
      String(records),
      "--group",
      `peer-ceiling-${topic}-${Date.now()}`,
      "--timeout",
      "30000",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  const header = stdout.split("\n").findIndex((line) => line.startsWith("start.time"));
  const row =
    header >= 0
      ? stdout
          .split("\n")
          [header + 1]?.split(",")
          .map((cell) => cell.trim())
      : undefined;
  if (exitCode !== 0 || row === undefined || row.length < 10) {
    throw new PlatformError(ErrorCodes.BENCH_PEER_FAILED, `ConsumerPerformance failed (exit ${exitCode})`, {
      details: { stdout: stdout.slice(-1_000), stderr: stderr.slice(-1_000) },
    });
  }
  return {
    records: Number(row[4]),
    recordsPerSecond: Number(row[5]),
    fetchRecordsPerSecond: Number(row[9]),
    megabytesPerSecond: Number(row[8]),
  };
}
