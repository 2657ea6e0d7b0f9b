import type { Log, ProducerRecord } from "../log/log.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import { isPlatformError } from "../messages/errors.ts";
import type { SensorReading } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import type { Props } from "../supervisor/actor.ts";

/**
 * The ingest actor: takes batches of raw MQTT messages, validates each against the reading
 * schema, and appends the good ones to `city.sensors.raw` keyed by sensor_id and the bad ones to
 * the dead letters, in one durable append per batch. Its mailbox applies back-pressure: the MQTT
 * subscriber `offer`s batches and waits while the log is behind, so QoS 1 acks slow down instead
 * of readings being dropped.
 */
export interface RawMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly receivedAt: number;
}

export type IngestMessage = {
  readonly type: "batch";
  readonly messages: readonly RawMessage[];
  /** settles when the batch is durable in the log (the subscriber acks QoS 1 then) */
  readonly done?: (error?: unknown) => void;
};

export type ParseResult =
  | {
      readonly ok: true;
      readonly reading: SensorReading;
      readonly key: string;
      /** the reading's event time in epoch ms, when the parser has read it already */
      readonly eventTime?: number;
    }
  | { readonly ok: false; readonly deadLetter: DeadLetter };

export interface IngestDeps {
  readonly log: Log;
  /** record values to log bytes (Confluent-framed JSON where the topic has a schema) */
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array>;
  readonly parse: (topic: string, payload: Uint8Array, now: number) => ParseResult;
  readonly onAppended?: (accepted: number, deadLetters: readonly DeadLetter[]) => void;
}

export interface IngestState {
  accepted: number;
  rejected: number;
}

export function ingestProps(deps: IngestDeps): Props<IngestMessage, IngestState> {
  return {
    kind: "ingest",
    mailbox: { capacity: 64, overflow: "backpressure" },
    initialState: () => ({ accepted: 0, rejected: 0 }),
    async receive(ctx, message) {
      const records: ProducerRecord[] = [];
      const deadLetters: DeadLetter[] = [];
      const reject = async (letter: DeadLetter) => {
        deadLetters.push(letter);
        records.push({
          topic: Topics.deadLetters,
          key: letter.source,
          value: await deps.encode(Topics.deadLetters, letter),
          timestamp: letter.at,
          handedOver: true,
        });
      };
      for (const raw of message.messages) {
        const result = deps.parse(raw.topic, raw.payload, raw.receivedAt);
        if (!result.ok) {
          await reject(result.deadLetter);
          continue;
        }
        let value: Uint8Array;
        try {
          value = await deps.encode(Topics.sensorsRaw, result.reading);
        } catch (error) {
          // the registered schema refused what the edge schema accepted: keep it, with the reason
          if (!isPlatformError(error)) throw error;
          await reject(
            deadLetter(`mqtt:${raw.topic}`, error.code, error.message, raw.payload, raw.receivedAt),
          );
          continue;
        }
        records.push({
          topic: Topics.sensorsRaw,
          key: result.key,
          value,
          timestamp: result.eventTime ?? Date.parse(result.reading.timestamp),
          headers: [{ key: "ingested_at", value: String(raw.receivedAt) }],
          // fresh from the codec and kept by nobody else: the embedded log's tail needs no copy
          handedOver: true,
        });
      }
      try {
        if (records.length > 0) await deps.log.append(records);
      } catch (error) {
        message.done?.(error);
        throw error;
      }
      ctx.state.accepted += records.length - deadLetters.length;
      ctx.state.rejected += deadLetters.length;
      deps.onAppended?.(records.length - deadLetters.length, deadLetters);
      message.done?.();
    },
  };
}
