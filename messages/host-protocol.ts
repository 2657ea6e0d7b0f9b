import type { DeadLetter } from "./dead-letter.ts";
import type { ErrorCode, PlatformError } from "./errors.ts";
import type { Prediction } from "./prediction.ts";
import type { ProcessedReading } from "./processed-reading.ts";
import type { SensorType } from "./sensor-reading.ts";
import type { WindowResult } from "./window-result.ts";

/**
 * What the node's main thread and its partition hosts (workers, or the main thread itself with
 * WORKERS=0) say to each other. Readings go in as binary records (messages/codec/); everything
 * else is a JSON envelope in the same ring, so a batch mark is always behind the readings it
 * covers.
 */

/** A reading on its way to its sensor actor, decoded once at the log and never as JSON again. */
export interface HotReading {
  readonly sensorType: SensorType;
  readonly sensorId: string;
  readonly eventTime: number;
  /** in MEASUREMENTS[sensorType] order */
  readonly values: Float64Array;
  readonly partition: number;
  readonly offset: number;
  /** when ingest received it: end-to-end latency starts here */
  readonly ingestedAt: number;
}

export type HostInbound =
  /**
   * answer once every record before it is handled; with `checkpoint`, publish dirty state first.
   * `watermark`: the node's event time (the low watermark of its partitions' readings up to this
   * mark, idle partitions excluded); windows that end before it, plus grace, close.
   */
  | {
      readonly type: "mark";
      readonly batch: number;
      readonly checkpoint: boolean;
      readonly watermark?: number;
    }
  /**
   * state from the changelog, for an actor that is not alive yet (partition assigned): the
   * record's bytes as stored (the actor's own encoding, or UTF-8 JSON), decoded by the actor
   */
  | {
      readonly type: "restore";
      readonly kind: StatefulKind;
      readonly key: string;
      readonly partition: number;
      readonly state: Uint8Array;
    }
  /** these partitions moved to another node: stop their actors, forget their state */
  | { readonly type: "evict"; readonly partitions: readonly number[] }
  | { readonly type: "tick"; readonly now: number };

/** actor kinds whose state goes to a changelog */
export type StatefulKind = "sensor" | "window";

export interface LateRecord {
  readonly stream: string;
  readonly key: string;
  readonly event_time: number;
  readonly reason: string;
  readonly partition: number;
  readonly offset: number;
}

export type HostOutput =
  | { readonly type: "reading"; readonly reading: ProcessedReading; readonly ingestedAt: number }
  | { readonly type: "window"; readonly window: WindowResult; readonly ingestedAt: number }
  | { readonly type: "prediction"; readonly prediction: Prediction; readonly ingestedAt: number }
  | { readonly type: "late"; readonly late: LateRecord }
  | { readonly type: "dead-letter"; readonly deadLetter: DeadLetter }
  | { readonly type: "mark"; readonly batch: number; readonly worker: number }
  /**
   * The engine's own (engine/stream-engine.ts takes them, the sinks never see them): the
   * highest event time of each partition's readings the worker read between the batch mark
   * before and this one, [partition, event time] pairs, ahead of the mark's answer; and an input
   * record the worker refused as a reading, for the input topic's dead-letter topic.
   */
  | {
      readonly type: "event-times";
      readonly batch: number;
      readonly worker: number;
      readonly times: number[];
    }
  | { readonly type: "input-dead-letter"; readonly deadLetter: DeadLetter }
  | {
      readonly type: "state";
      readonly kind: StatefulKind;
      readonly key: string;
      readonly partition: number;
      readonly state: unknown;
    }
  | { readonly type: "event"; readonly event: unknown }
  | CorruptStateReport;

/**
 * A restored state its actor could not decode (a corrupt changelog record, or one written under
 * another configuration): the key started empty. The main thread reports it as it reports a
 * changelog record it could not decode itself (counted, said once, a metric), since state
 * restored as bytes is decoded only by the actor that owns the key.
 */
export interface CorruptStateReport {
  readonly type: "corrupt-state";
  readonly kind: StatefulKind;
  readonly key: string;
  readonly partition: number;
  /** the decoder's error code (DECODE_FAILED, CONFIG_INVALID) and its message without the code */
  readonly code: ErrorCode;
  readonly reason: string;
}

export function corruptStateReport(
  kind: StatefulKind,
  key: string,
  partition: number,
  error: PlatformError,
): CorruptStateReport {
  const prefix = `${error.code}: `;
  const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return { type: "corrupt-state", kind, key, partition, code: error.code, reason };
}
