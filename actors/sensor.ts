import { deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes } from "../messages/errors.ts";
import type { QualityIssue } from "../messages/processed-reading.ts";
import { MEASUREMENTS, type SensorType } from "../messages/sensor-reading.ts";
import type { HotReading, ShardOutput } from "../messages/shard-protocol.ts";
import type { Props } from "../supervisor/actor.ts";
import { type WindowMessage, windowKey } from "./window.ts";

/**
 * sensor/<sensor_id>: one actor per sensor stream. Checks each reading (range, cross-field,
 * completeness, timeliness, duplicates: stream/quality), scores it with the sensor's online
 * anomaly detector (ml/anomaly), publishes the verdict, and forwards readings that passed to the
 * sensor's window actor. State is per sensor, so a noisy sensor never skews
 * another's baseline.
 */
export type SensorMessage = { readonly type: "reading"; readonly reading: HotReading };

export interface QualityVerdict {
  readonly passed: boolean;
  readonly score: number;
  readonly issues: readonly QualityIssue[];
}

/** The checks one sensor carries; built by the node from stream/quality and ml/anomaly. */
export interface SensorChecks {
  quality(reading: HotReading, now: number): QualityVerdict;
  /** score-then-learn: the score is computed before the detector sees the reading */
  anomaly(reading: HotReading): number;
}

export interface SensorState {
  readonly checks: SensorChecks;
  readings: number;
  rejected: number;
}

export interface SensorDeps {
  readonly createChecks: (sensorType: SensorType, sensorId: string) => SensorChecks;
  readonly emit: (output: ShardOutput) => void;
  readonly now: () => number;
  /** sensors idle this long passivate; their state comes back from the snapshot */
  readonly passivateAfterMs?: number;
}

export function sensorProps(deps: SensorDeps): Props<SensorMessage, SensorState | undefined> {
  return {
    kind: "sensor",
    mailbox: { capacity: 10_000, overflow: "backpressure" },
    ...(deps.passivateAfterMs === undefined ? {} : { passivateAfterMs: deps.passivateAfterMs }),
    // The sensor's type is known from its first reading, so a fresh sensor starts empty.
    initialState: (_key, snapshot) => snapshot,
    receive(ctx, { reading }) {
      ctx.state ??= {
        checks: deps.createChecks(reading.sensorType, reading.sensorId),
        readings: 0,
        rejected: 0,
      };
      const state = ctx.state;
      state.readings++;
      const verdict = state.checks.quality(reading, deps.now());
      const anomalyScore = verdict.passed ? state.checks.anomaly(reading) : 0;
      const names = MEASUREMENTS[reading.sensorType];
      const values: Record<string, number> = {};
      for (let i = 0; i < names.length; i++) values[names[i]!] = reading.values[i]!;
      deps.emit({
        type: "reading",
        ingestedAt: reading.ingestedAt,
        reading: {
          sensor_id: reading.sensorId,
          type: reading.sensorType,
          event_time: reading.eventTime,
          values,
          passed: verdict.passed,
          quality_score: verdict.score,
          issues: [...verdict.issues],
          anomaly_score: anomalyScore,
          partition: reading.partition,
          offset: reading.offset,
        },
      });
      if (!verdict.passed) {
        state.rejected++;
        return;
      }
      const window = ctx.ref<WindowMessage>(
        "window",
        windowKey(reading.sensorType, reading.partition, reading.sensorId),
      );
      if (!window.tell({ type: "reading", reading })) {
        // The node feeds a worker in bounded batches, so this means a window actor is stuck;
        // the reading is kept as a dead letter rather than lost.
        deps.emit({
          type: "dead-letter",
          deadLetter: deadLetter(
            `actor:${window.address}`,
            ErrorCodes.MAILBOX_FULL,
            `window mailbox full; reading ${reading.partition}@${reading.offset} not windowed`,
            JSON.stringify({ ...reading, values: [...reading.values] }),
            deps.now(),
          ),
        });
      }
    },
  };
}
