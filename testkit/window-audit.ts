import { Admin } from "@platformatic/kafka";
import { openLog } from "../log/index.ts";
import type { Log } from "../log/log.ts";
import { HEADER_BYTES, MAGIC_BYTE, payloadOf } from "../messages/schema-registry/wire-format.ts";
import { Topics } from "../messages/topics.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { PublishedReading } from "./sensor-load.ts";

/**
 * Reads back what a test run left on the shared broker and checks it window by window.
 *
 * The topics are shared by every run, so the audit remembers where each partition ended before
 * the run and reads only past that, keeping the records of this run's sensors (their ids share a
 * unique prefix). For every (sensor, window) with readings in `city.sensors.raw`:
 * - the final window's count equals the number of raw records of that sensor in that window,
 *   less the ones the window judged late and wrote to `city.sensors.raw.late` (nothing that
 *   reached the log was lost or counted twice by a replay; a reading that reached the log after
 *   its partition's event time passed its window's end plus the grace is late, as in Kafka
 *   Streams, and a busy machine or a rescued MQTT session makes some);
 * - every final window emitted for it (a replay may emit it again) has that same count.
 */
export interface WindowKey {
  readonly sensor: string;
  readonly windowStart: number;
}

export interface AuditReport {
  /** raw records of the run's sensors (with duplicates, by offset) */
  readonly rawRecords: number;
  /** readings in raw under the same (sensor, event time) more than once */
  readonly rawDuplicates: number;
  /** readings the windows judged late (in `city.sensors.raw.late`), not counted by any window */
  readonly lateReadings: number;
  readonly windowsChecked: number;
  readonly finalWindowsInTopic: number;
  /** human-readable mismatches; empty when the run is effectively-once */
  readonly mismatches: string[];
  /** reference readings (acknowledged by MQTT) that never reached city.sensors.raw */
  readonly missingFromRaw: PublishedReading[];
}

type Marks = Map<string, Map<number, number>>;

export class WindowAudit {
  private constructor(
    private readonly log: Log,
    private readonly prefix: string,
    private readonly windowMs: number,
    private readonly starts: Marks,
  ) {}

  /** remember where the shared topics end now, before the run writes to them */
  static async begin(brokers: string, prefix: string, windowMs: number): Promise<WindowAudit> {
    const log = await openLog({ kind: "kafka", brokers: brokers.split(",") });
    const starts: Marks = new Map();
    for (const topic of [Topics.sensorsRaw, Topics.processed("traffic"), Topics.lateOf(Topics.sensorsRaw)]) {
      const count = (await log.partitions(topic)) ?? 0;
      const ends = new Map<number, number>();
      for (let partition = 0; partition < count; partition++)
        ends.set(partition, await log.endOffset({ topic, partition }));
      starts.set(topic, ends);
    }
    return new WindowAudit(log, prefix, windowMs, starts);
  }

  private async readRun<T>(topic: string, pick: (value: unknown) => T | undefined): Promise<T[]> {
    const out: T[] = [];
    const count = (await this.log.partitions(topic)) ?? 0;
    const decoder = new TextDecoder();
    for (let partition = 0; partition < count; partition++) {
      let from = this.starts.get(topic)?.get(partition) ?? 0;
      const end = await this.log.endOffset({ topic, partition });
      while (from < end) {
        const records = await this.log.read({ topic, partition }, { fromOffset: from, maxRecords: 5000 });
        if (records.length === 0) break;
        for (const record of records) {
          from = record.offset + 1;
          if (record.value === null) continue;
          const value = decodedOrUndefined(decoder, record.value);
          // the topics are shared: another run's hostile-input tests write bytes that are not a
          // framed JSON record at all; they are not this run's (its node frames everything)
          const picked = value === undefined ? undefined : pick(value);
          if (picked !== undefined) out.push(picked);
        }
      }
    }
    return out;
  }

  windowOf(at: number): number {
    return Math.floor(at / this.windowMs) * this.windowMs;
  }

  async rawReadings(): Promise<{ sensor: string; at: number }[]> {
    return this.readRun(Topics.sensorsRaw, (value) => {
      const reading = value as { sensor_id?: unknown; timestamp: string } | null;
      return typeof reading?.sensor_id === "string" && reading.sensor_id.startsWith(this.prefix)
        ? { sensor: reading.sensor_id as string, at: Date.parse(reading.timestamp) }
        : undefined;
    });
  }

  /** readings of the run's sensors that a window judged late */
  async lateReadings(): Promise<{ sensor: string; at: number }[]> {
    return this.readRun(Topics.lateOf(Topics.sensorsRaw), (value) => {
      const late = value as { key?: unknown; event_time: number } | null;
      return typeof late?.key === "string" && late.key.startsWith(this.prefix)
        ? { sensor: late.key as string, at: late.event_time }
        : undefined;
    });
  }

  async finalWindows(): Promise<WindowResult[]> {
    return this.readRun(Topics.processed("traffic"), (value) => {
      const window = value as WindowResult | null;
      return window?.scope === "sensor" &&
        window.final &&
        typeof window.key === "string" &&
        window.key.startsWith(this.prefix)
        ? window
        : undefined;
    });
  }

  /** every window that starts before `beforeWindowStart` (the closing readings' windows stay open) */
  async audit(reference: readonly PublishedReading[], beforeWindowStart: number): Promise<AuditReport> {
    const raw = await this.rawReadings();
    const late = new Set((await this.lateReadings()).map(({ sensor, at }) => `${sensor}@${at}`));
    const keyOf = (sensor: string, windowStart: number) => `${sensor}@${windowStart}`;
    const expected = new Map<string, number>();
    const seen = new Set<string>();
    let rawDuplicates = 0;
    let lateReadings = 0;
    for (const { sensor, at } of raw) {
      const id = `${sensor}@${at}`;
      // a reading appended twice (an ingest batch retried after a partial append) is one
      // reading: the sensor actor drops the repeat, and the window counts it once
      if (seen.has(id)) {
        rawDuplicates++;
        continue;
      }
      seen.add(id);
      if (late.has(id)) {
        lateReadings++;
        continue;
      }
      const start = this.windowOf(at);
      if (start < beforeWindowStart)
        expected.set(keyOf(sensor, start), (expected.get(keyOf(sensor, start)) ?? 0) + 1);
    }
    const windows = await this.finalWindows();
    const emitted = new Map<string, number[]>();
    for (const w of windows) {
      const key = keyOf(w.key, w.window_start);
      emitted.set(key, [...(emitted.get(key) ?? []), w.count]);
    }
    const mismatches: string[] = [];
    for (const [key, count] of [...expected].sort()) {
      const counts = emitted.get(key);
      if (!counts) mismatches.push(`${key}: ${count} readings in raw, no final window`);
      else if (counts.some((c) => c !== count))
        mismatches.push(`${key}: ${count} readings in raw, final windows counted [${counts.join(", ")}]`);
    }
    for (const key of emitted.keys())
      if (!expected.has(key) && Number(key.split("@")[1]) < beforeWindowStart)
        mismatches.push(`${key}: a final window for a window with no readings in raw`);
    const missingFromRaw = reference.filter(({ sensor, at }) => !seen.has(`${sensor}@${at}`));
    return {
      rawRecords: raw.length,
      rawDuplicates,
      lateReadings,
      windowsChecked: expected.size,
      finalWindowsInTopic: windows.length,
      mismatches,
      missingFromRaw,
    };
  }

  /** the run's own Log client (for the group set-up) */
  get client(): Log {
    return this.log;
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}

/** start a new consumer group at the end of `city.sensors.raw`: the run reads only its own readings */
export async function startGroupAtEnd(
  brokers: string,
  groupId: string,
  log: Log,
  topics: readonly string[] = [Topics.sensorsRaw],
): Promise<void> {
  const ends = [];
  for (const topic of topics) {
    const count = (await log.partitions(topic)) ?? 0;
    const partitionOffsets = [];
    for (let partition = 0; partition < count; partition++)
      partitionOffsets.push({ partition, offset: BigInt(await log.endOffset({ topic, partition })) });
    // a topic not there yet holds nothing older to skip
    if (count > 0) ends.push({ name: topic, partitionOffsets });
  }
  if (ends.length === 0) return;
  const admin = new Admin({ clientId: `${groupId}-setup`, bootstrapBrokers: brokers.split(",") });
  try {
    await admin.alterConsumerGroupOffsets({ groupId, topics: ends });
  } finally {
    await admin.close();
  }
}

/**
 * A record's JSON, framed with the schema registry's header (raw readings, windows) or not (the
 * late readings the output router writes as they are). Reading the unframed late records as
 * framed cut their first 5 bytes: no late reading was ever seen, and a reading the platform
 * rightly called late (its MQTT session moved between nodes for longer than the grace) failed
 * the audit as a window that miscounted.
 */
export function recordJson(decoder: TextDecoder, bytes: Uint8Array): unknown {
  const framed = bytes.byteLength >= HEADER_BYTES && bytes[0] === MAGIC_BYTE;
  return JSON.parse(decoder.decode(framed ? payloadOf(bytes) : bytes));
}

function decodedOrUndefined(decoder: TextDecoder, bytes: Uint8Array): unknown {
  try {
    return recordJson(decoder, bytes);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
