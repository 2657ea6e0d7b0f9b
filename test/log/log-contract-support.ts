import type { Consumer, LogRecord, TopicPartition } from "../../log/log.ts";
import { type ErrorCode, isPlatformError } from "../../messages/errors.ts";

/** Shared helpers of the Log contract suites: unique names, bounded polling, error checks. */
export const TEST_TIMEOUT_MS = 90_000;
export const WAIT_MS = 45_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (text: string) => encoder.encode(text);
export const text = (value: Uint8Array | null) => (value === null ? null : decoder.decode(value));
export const slot = (tp: TopicPartition) => `${tp.topic}#${tp.partition}`;
export const sortedSlots = (tps: readonly TopicPartition[]) => tps.map(slot).sort();

let counter = 0;
export function unique(what: string): string {
  counter += 1;
  return `contract.${what}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}.${counter}`;
}

export async function expectError(action: () => unknown, code: ErrorCode): Promise<Error> {
  try {
    await action();
  } catch (error) {
    if (!isPlatformError(error, code)) throw error;
    return error;
  }
  throw new Error(`expected a PlatformError ${code}, but the call succeeded`);
}

/** poll the consumers round after round until `done` holds; returns every record each one got */
export async function pollUntil(
  consumers: readonly Consumer[],
  done: (received: LogRecord[][]) => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<LogRecord[][]> {
  const received: LogRecord[][] = consumers.map(() => []);
  const deadline = Date.now() + timeoutMs;
  while (!done(received)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    for (const [index, consumer] of consumers.entries()) {
      received[index]!.push(...(await consumer.poll({ maxRecords: 100, timeoutMs: 100 })));
    }
  }
  return received;
}

export const allPartitions = (topic: string, count: number): TopicPartition[] =>
  Array.from({ length: count }, (_, partition) => ({ topic, partition }));
