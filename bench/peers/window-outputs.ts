import type { Consumer, Log } from "../../log/log.ts";
import type { ProducedReading } from "./traffic-data.ts";
import { type TrafficWindowResult, windowKey } from "./window-result.ts";

const decoder = new TextDecoder();
const WINDOW_MS = 60_000;

/** The latest update of every window on an output topic: each window's final aggregate. */
export async function readFinalWindows(log: Log, topic: string): Promise<Map<string, TrafficWindowResult>> {
  const partitions = (await log.partitions(topic)) ?? 0;
  const windows = new Map<string, TrafficWindowResult>();
  for (let partition = 0; partition < partitions; partition++) {
    const end = await log.endOffset({ topic, partition });
    let offset = 0;
    while (offset < end) {
      const records = await log.read({ topic, partition }, { fromOffset: offset, maxRecords: 50_000 });
      if (records.length === 0) break;
      for (const record of records) {
        if (record.value === null) continue;
        const result = JSON.parse(decoder.decode(record.value)) as TrafficWindowResult;
        windows.set(windowKey(result.sensor_id, result.window_start), result);
      }
      offset = records.at(-1)!.offset + 1;
    }
  }
  return windows;
}

/**
 * End-to-end latency, measured the same way for both sides. For each traffic reading the
 * harness remembers when it was produced (wall clock, also the Kafka record timestamp). A
 * consumer of the output topic notes when each window update arrives; an update with count c
 * covers the first c readings of its window (all readings of a sensor are on one partition, so
 * both sides fold them in produce order). A reading's latency is the arrival time of the first
 * update that covers it minus its produce time: produce -> broker -> processor -> broker ->
 * a downstream consumer, the latency a dashboard would see.
 */
export class OutputLatency {
  private readonly produced = new Map<string, number[]>();
  private readonly covered = new Map<string, number>();
  private readonly latencies: number[] = [];
  private coveredCount = 0;
  private expected = 0;
  /** readings produced before this wall-clock time are followed but not timed (warm-up) */
  measureFrom = 0;

  onProduced = ({ reading, producedAt }: ProducedReading): void => {
    if (reading.traffic === undefined) return;
    const start = reading.eventTime - (reading.eventTime % WINDOW_MS);
    const key = windowKey(reading.traffic.sensor_id, start);
    let times = this.produced.get(key);
    if (times === undefined) {
      times = [];
      this.produced.set(key, times);
    }
    times.push(producedAt);
    this.expected++;
  };

  /** polls the output until every produced traffic reading is covered, or the deadline */
  async follow(
    consumer: Consumer,
    state: { producing: boolean; stopped: boolean },
    deadline: number,
  ): Promise<void> {
    while (
      !state.stopped &&
      Date.now() < deadline &&
      (state.producing || this.coveredCount < this.expected)
    ) {
      const records = await consumer.poll({ maxRecords: 5_000, timeoutMs: 50 });
      const arrivedAt = Date.now();
      for (const record of records) {
        if (record.value === null || record.key === null) continue;
        const { count } = JSON.parse(decoder.decode(record.value)) as TrafficWindowResult;
        const times = this.produced.get(record.key);
        if (times === undefined) continue;
        let done = this.covered.get(record.key) ?? 0;
        const upTo = Math.min(count, times.length);
        for (; done < upTo; done++) {
          const producedAt = times[done]!;
          if (producedAt >= this.measureFrom) this.latencies.push(arrivedAt - producedAt);
        }
        this.coveredCount += done - (this.covered.get(record.key) ?? 0);
        this.covered.set(record.key, done);
      }
    }
  }

  summary(): { readings: number; covered: number; timed: number; p50: number; p99: number; max: number } {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    return {
      readings: this.expected,
      covered: this.coveredCount,
      timed: sorted.length,
      p50: at(0.5),
      p99: at(0.99),
      max: sorted.at(-1) ?? Number.NaN,
    };
  }
}
