import { deadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import { corruptStateReport, type HostOutput, type HotReading } from "../../messages/host-protocol.ts";
import type { QualityIssue } from "../../messages/processed-reading.ts";
import { MEASUREMENTS, SENSOR_TYPES, type SensorType } from "../../messages/sensor-reading.ts";
import type { Props } from "../../supervisor/actor.ts";
import { type WindowMessage, windowKey } from "../window/window.ts";

/**
 * sensor/<sensor_id>: one actor per sensor stream. Checks each reading (range, cross-field,
 * completeness, timeliness, duplicates: stream/quality), scores it with the sensor's online
 * anomaly detector (ml/anomaly), publishes the verdict, and forwards readings that passed to the
 * window actor of its type and partition. State is per sensor, so a noisy sensor never skews another's baseline.
 *
 * State durability: on a checkpoint the actor publishes its state (as plain data) for the
 * sensor changelog; the state carries the log offset of the last reading applied, and a
 * replayed reading at or below it is skipped, so a restore followed by a replay applies each
 * reading exactly once. An idle sensor passivates (SENSOR_IDLE_MS): if it applied readings
 * since its last published state it publishes it first, so the changelog has everything a
 * passivated sensor knew and the next checkpoint need not wake it.
 */
export type SensorMessage =
  | { readonly type: "reading"; readonly reading: HotReading }
  | { readonly type: "checkpoint" }
  /** the sensor's partition moved to another node: stop, its state lives on in the changelog */
  | { readonly type: "evict" };

export interface QualityVerdict {
  readonly passed: boolean;
  readonly score: number;
  readonly issues: readonly QualityIssue[];
}

/** The checks one sensor carries; built by the node from stream/quality and ml/anomaly. */
export interface SensorChecks {
  /** `receivedAt`: when the platform received the reading (timeliness is judged against it) */
  quality(reading: HotReading, receivedAt: number): QualityVerdict;
  /** score-then-learn: the score is computed before the detector sees the reading */
  anomaly(reading: HotReading): number;
  /** plain data that `createChecks(..., snapshot)` turns back into the same checks */
  snapshot(): unknown;
}

export interface SensorState {
  readonly sensorType: SensorType;
  readonly checks: SensorChecks;
  readings: number;
  rejected: number;
  /** input partition and the offset of the last reading applied (replay dedupe) */
  partition: number;
  lastOffset: number;
  /** readings applied since the state was last published (not part of the snapshot) */
  dirty: boolean;
}

export interface SensorSnapshot {
  readonly sensorType: SensorType;
  readonly checks: unknown;
  readonly readings: number;
  readonly rejected: number;
  readonly partition: number;
  readonly lastOffset: number;
}

export interface SensorDeps {
  readonly createChecks: (sensorType: SensorType, sensorId: string, snapshot?: unknown) => SensorChecks;
  readonly emit: (output: HostOutput) => void;
  readonly now: () => number;
  /** sensors idle this long passivate; their state comes back from the snapshot */
  readonly passivateAfterMs?: number;
  /** the sensor passivated with its state published (or nothing to publish) */
  readonly onPassivated?: (key: string) => void;
}

function isSensorSnapshot(value: unknown): value is SensorSnapshot {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return false;
  const saved = value as Record<string, unknown>;
  return (
    (SENSOR_TYPES as readonly unknown[]).includes(saved.sensorType) &&
    [saved.readings, saved.rejected, saved.partition, saved.lastOffset].every(Number.isInteger)
  );
}

export function toSensorSnapshot(state: SensorState): SensorSnapshot {
  return {
    sensorType: state.sensorType,
    checks: state.checks.snapshot(),
    readings: state.readings,
    rejected: state.rejected,
    partition: state.partition,
    lastOffset: state.lastOffset,
  };
}

export function sensorProps(deps: SensorDeps): Props<SensorMessage, SensorState | undefined> {
  const publish = (key: string, state: SensorState) => {
    state.dirty = false;
    deps.emit({
      type: "state",
      kind: "sensor",
      key,
      partition: state.partition,
      state: toSensorSnapshot(state),
    });
  };
  return {
    kind: "sensor",
    mailbox: { capacity: 10_000, overflow: "backpressure" },
    ...(deps.passivateAfterMs === undefined ? {} : { passivateAfterMs: deps.passivateAfterMs }),
    toSnapshot: (state) => (state ? toSensorSnapshot(state) : undefined),
    // The sensor's type is known from its first reading, so a fresh sensor starts empty; a
    // passivated or restored one comes back from its snapshot (plain data, see toSnapshot).
    initialState: (key, snapshot) => {
      if (snapshot === undefined) return undefined;
      // restored from the changelog as it was written: a damaged record starts the sensor empty,
      // reported (counted and said by the main thread) as a window's is, never silently
      const corrupt = (why: string) => {
        const error = new PlatformError(ErrorCodes.DECODE_FAILED, `a sensor state ${why}`);
        deps.emit(corruptStateReport("sensor", key, -1, error));
        return undefined;
      };
      if (!isSensorSnapshot(snapshot)) return corrupt("is not a sensor snapshot");
      let checks: SensorChecks;
      try {
        checks = deps.createChecks(snapshot.sensorType, key, snapshot.checks);
      } catch (error) {
        if (!isPlatformError(error)) throw error;
        return corrupt(`holds checks that do not restore (${error.message})`);
      }
      return {
        sensorType: snapshot.sensorType,
        checks,
        readings: snapshot.readings,
        rejected: snapshot.rejected,
        partition: snapshot.partition,
        lastOffset: snapshot.lastOffset,
        dirty: false,
      };
    },
    onSignal(ctx, signal) {
      if (signal.type !== "passivating") return;
      if (ctx.state?.dirty) publish(ctx.key, ctx.state);
      deps.onPassivated?.(ctx.key);
    },
    receive(ctx, message) {
      if (message.type === "evict") {
        ctx.stop();
        return;
      }
      if (message.type === "checkpoint") {
        if (ctx.state) publish(ctx.key, ctx.state);
        return;
      }
      const reading = message.reading;
      ctx.state ??= {
        sensorType: reading.sensorType,
        checks: deps.createChecks(reading.sensorType, reading.sensorId),
        readings: 0,
        rejected: 0,
        partition: reading.partition,
        lastOffset: -1,
        dirty: false,
      };
      const state = ctx.state;
      if (reading.partition === state.partition && reading.offset <= state.lastOffset) return; // replayed
      state.dirty = true;
      state.partition = reading.partition;
      state.lastOffset = reading.offset;
      state.readings++;
      // Timeliness judges the data, not this node: a reading is late when it reached the
      // platform (the ingest stamp, else the broker's timestamp) long after its event time. Judged
      // against this actor's clock, a node working off a backlog called every reading of every
      // sensor late at once (one low-quality alert per sensor); its own lag is the consumer-lag
      // signal (actors/alert/alert-signals.ts).
      const receivedAt = reading.ingestedAt > 0 ? reading.ingestedAt : deps.now();
      const verdict = state.checks.quality(reading, receivedAt);
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
          history: state.readings,
          partition: reading.partition,
          offset: reading.offset,
        },
      });
      if (!verdict.passed) {
        state.rejected++;
        return;
      }
      // the window actor of the sensor's type on its partition (each sensor's windows inside it)
      const window = ctx.ref<WindowMessage>("window", windowKey(reading.sensorType, reading.partition));
      const windowed: WindowMessage = { type: "reading", reading };
      if (window.tell(windowed)) return;
      // One window actor takes a whole partition's sensors, so a burst of new sensors can fill
      // its mailbox (65,536) while each sensor actor holds one reading. This sensor waits for
      // room (its later readings queue behind it, in order); the host's marks wait for the
      // system to drain, waiting offers included, so no checkpoint runs ahead of the reading.
      // Only a window actor that stopped (the partition evicted, the node closing) refuses it,
      // and then the reading is kept as a dead letter rather than lost.
      return window.offer(windowed).catch((error: unknown) => {
        deps.emit({
          type: "dead-letter",
          deadLetter: deadLetter(
            `actor:${window.address}`,
            isPlatformError(error) ? error.code : ErrorCodes.MAILBOX_FULL,
            `window actor did not take reading ${reading.partition}@${reading.offset}; not windowed`,
            JSON.stringify({ ...reading, values: [...reading.values] }),
            deps.now(),
          ),
        });
      });
    },
  };
}
