import { type SensorChecks, type SensorMessage, sensorProps } from "../actors/sensor/sensor.ts";
import {
  type PartitionWindows,
  type PartitionWindowsSnapshot,
  parseWindowKey,
  type WindowMessage,
  type WindowUpdateFlush,
  windowKey,
  windowProps,
} from "../actors/window/window.ts";
import { encodeActorState, writeActorState } from "../messages/codec/actor-state-record.ts";
import { decodeHostInbound } from "../messages/codec/host-inbound-codec.ts";
import { writeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { decodeRawReading, type RawReadingRecord } from "../messages/codec/raw-reading-record.ts";
import { RecordTags, recordTagOf } from "../messages/codec/record-layout.ts";
import type { JsonReadingFields } from "../messages/codec/sensor-reading-json.ts";
import { decodeSensorReading, type SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import { writeWindowOutput } from "../messages/codec/window-output-record.ts";
import { deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError } from "../messages/errors.ts";
import type { HostOutput } from "../messages/host-protocol.ts";
import type { SensorType } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import { EventTimeTimers } from "../stream/watermark/event-time-timers.ts";
import type { ActorSystem, SnapshotStore } from "../supervisor/index.ts";
import type { RecordReader, RecordWriter } from "../supervisor/transport.ts";
import { readReadingValue } from "./worker-reading.ts";

/**
 * A partition host: the actors of some partitions (sensor, window) behind one inbound
 * and one outbound channel. The same code runs inside a Bun worker (SAB rings) and on the main
 * thread with WORKERS=0 (in-process channels).
 *
 * Inbound: binary reading records and JSON envelopes (marks, ticks), in order. Outbound: JSON
 * envelopes of HostOutput. A mark is answered only after every actor is idle, so every output
 * caused by the records before the mark is ahead of it in the outbound channel. A checkpoint
 * mark first asks every sensor and window actor that saw a record since the last checkpoint to
 * publish its state (for the changelogs), so the state is ahead of the mark too. A restore
 * record puts changelog state where the actor system looks when the actor is first spawned.
 */
/** how long a sensor or window actor stays without a reading before it passivates */
export const DEFAULT_SENSOR_IDLE_MS = 120_000;

/** actor states a checkpoint publishes per turn of the host's loop, between turns of input */
export const SNAPSHOT_STATES_PER_TURN = 256;

export interface PartitionHostDeps {
  readonly worker: number;
  readonly system: ActorSystem;
  readonly inbound: RecordReader;
  readonly outbound: RecordWriter;
  /** where restored state waits for its actor (the system's snapshot store) */
  readonly snapshots: SnapshotStore;
  readonly createChecks: (sensorType: SensorType, sensorId: string, snapshot?: unknown) => SensorChecks;
  readonly createWindows: (
    sensorType: SensorType,
    partition: number,
    snapshot?: PartitionWindowsSnapshot,
  ) => PartitionWindows;
  /** stateful actors idle this long passivate; default 2 minutes (Akka's idle passivation) */
  readonly passivateAfterMs?: number;
  readonly now: () => number;
  readonly hrtimeMs: () => number;
  readonly tickMs?: number;
  /** false: readings go straight to their window actor, no sensor actors (PartitionHostSetup) */
  readonly sensorChecks?: boolean;
  /** when the window actors' cached updates go out (PartitionHostSetup); default "batch" */
  readonly windowUpdateFlush?: WindowUpdateFlush;
  /** the sensor types the job takes (PartitionHostSetup.acceptTypes); default all */
  readonly acceptTypes?: ReadonlySet<SensorType>;
  /** the input topic raw readings come from (dead letters' source); default city.sensors.raw */
  readonly inputTopic?: string;
}

export interface PartitionHost {
  /** read and handle inbound records until `stop` */
  run(): Promise<void>;
  /** stop; the actors' queued messages left after `timeoutMs` (default 30 s) are abandoned */
  stop(timeoutMs?: number): Promise<void>;
}

export function createPartitionHost(deps: PartitionHostDeps): PartitionHost {
  const { system, inbound, outbound } = deps;
  // outputs in order; actor state is pre-encoded (a binary record the changelog takes as it is)
  const pending: (HostOutput | Uint8Array)[] = [];
  const write = (record: HostOutput | Uint8Array) =>
    record instanceof Uint8Array
      ? outbound.tryWrite(record)
      : record.type === "window"
        ? writeWindowOutput(outbound, record)
        : writeJsonEnvelope(outbound, record);
  const emit = (output: HostOutput) => {
    if (output.type !== "state") {
      if (pending.length > 0 || !write(output)) pending.push(output);
      return;
    }
    // a state that is already bytes (the window actor's snapshot) goes straight into the ring's
    // slot; only one that must wait for space gets a record of its own
    if (
      pending.length === 0 &&
      output.state instanceof Uint8Array &&
      writeActorState(outbound, output.kind, output.key, output.partition, output.state)
    )
      return;
    const record = encodeActorState(output.kind, output.key, output.partition, output.state);
    if (pending.length > 0 || !write(record)) pending.push(record);
  };
  // passivation also makes the system load restored (changelog) state when it spawns an actor
  const passivateAfterMs = deps.passivateAfterMs ?? DEFAULT_SENSOR_IDLE_MS;
  // window actors with an open window, by when it may close: the node's watermark wakes them
  const closeTimers = new EventTimeTimers();
  let watermark = Number.NEGATIVE_INFINITY;
  // a passivating actor publishes its unsaved state itself: the next checkpoint need not wake it
  system.register(
    sensorProps({
      createChecks: deps.createChecks,
      emit,
      now: deps.now,
      passivateAfterMs,
      onPassivated: (key) => {
        dirtySensors.delete(key);
        publishSensorWindows(key);
      },
    }),
  );
  system.register(
    windowProps({
      createWindows: deps.createWindows,
      emit,
      now: deps.now,
      tickMs: deps.tickMs ?? 1000,
      // "checkpoint": the checkpoint below tells every window actor that saw a reading since the
      // last one, before the mark is answered, so no held update is left behind its mark
      ...(deps.windowUpdateFlush === undefined ? {} : { flushUpdates: deps.windowUpdateFlush }),
      // windows are scored by the models room's registered versions (node/models.ts), not here
      scoreTypes: [],
      passivateAfterMs,
      onNextClose: (key, closeAt) => closeTimers.schedule(key, closeAt),
      onPassivated: (key) => dirtyWindows.delete(key),
      takeRestored: (key) => {
        const states = restoredWindows.get(key) ?? [];
        restoredWindows.delete(key);
        return states;
      },
    }),
  );

  let running = true;
  const marks: {
    batch: number;
    checkpoint: boolean;
    watermark: number | undefined;
    eventTimes: number[] | undefined;
  }[] = [];
  /**
   * The highest event time of each partition's raw readings read since the last mark: the
   * dispatcher's per-partition event time, which it no longer reads itself; it goes back ahead
   * of the mark's answer, so it covers exactly the readings before the mark.
   */
  const eventTimes: number[] = [];
  const eventTimePartitions: number[] = [];
  const takeEventTimes = (): number[] | undefined => {
    if (eventTimePartitions.length === 0) return undefined;
    const times: number[] = [];
    for (const partition of eventTimePartitions) {
      times.push(partition, eventTimes[partition]!);
      eventTimes[partition] = Number.NEGATIVE_INFINITY;
    }
    eventTimePartitions.length = 0;
    return times;
  };
  /** a raw reading's event time: per record, so an array by partition, not a Map */
  const observeEventTime = (partition: number, eventTime: number) => {
    const before = eventTimes[partition];
    if (before === undefined || before === Number.NEGATIVE_INFINITY) {
      eventTimePartitions.push(partition);
      eventTimes[partition] = eventTime;
    } else if (eventTime > before) eventTimes[partition] = eventTime;
  };
  // actors that saw a record since the last checkpoint: their state goes to the changelogs;
  // a window actor with how many of its sensors changed (the states its checkpoint publishes)
  const dirtySensors = new Set<string>();
  const dirtyWindows = new Map<string, number>();
  // sensors' window state from the changelog, waiting for their partition's window actor
  const restoredWindows = new Map<string, [sensorId: string, state: unknown][]>();
  // the window actor of each sensor seen here (a sensor has one type and one partition)
  const windowOfSensor = new Map<string, string>();
  /**
   * A passivating sensor actor publishes its state, its applied offset included, at once. Its
   * windows live in its partition's window actor, which stays up while other sensors send and
   * would publish them only at the next checkpoint: a crash before that restored the sensor's
   * newer offset beside its older windows, and the replayed readings in between, skipped by the
   * sensor actor, never reached the windows again. So the sensor's windows go out with it.
   */
  const publishSensorWindows = (sensorId: string) => {
    const window = windowOfSensor.get(sensorId);
    if (window !== undefined) system.ref<WindowMessage>("window", window).tell({ type: "publish", sensorId });
  };
  // which actors each partition has here, so a revoked partition's actors can be stopped
  const partitionActors = new Map<number, { sensors: Set<string>; windows: Set<string> }>();
  const actorsOf = (partition: number) => {
    let actors = partitionActors.get(partition);
    if (!actors) {
      actors = { sensors: new Set(), windows: new Set() };
      partitionActors.set(partition, actors);
    }
    return actors;
  };
  const raw: RawReadingRecord = {
    partition: 0,
    offset: 0,
    ingestedAt: 0,
    jsonStart: 0,
    valueAt: 0,
    valueEnd: 0,
  };
  const fields: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };
  const { acceptTypes } = deps;
  const inputTopic = deps.inputTopic ?? Topics.sensorsRaw;
  const scratch: SensorReadingRecord = {
    sensorType: "traffic",
    sensorId: "",
    partition: 0,
    offset: 0,
    eventTime: 0,
    ingestedAt: 0,
    values: [],
    flags: 0,
  };

  /**
   * An evict was handled and its actors have not stopped yet: they stop at their turn, and a
   * stopping actor deletes its snapshot. A restore of the same keys handled before that (a
   * partition revoked and assigned back at once, as an eager rebalance does) was deleted with
   * it, and the partition's actors started again without their state (windows of a rolling
   * restart counted from the middle). Nothing after an evict is handled until its actors are gone.
   */
  let evictionsUnsettled = false;
  /**
   * Windows only: a reading its window actor's full mailbox refused stays in the ring, and the
   * host lets the actors make room before it reads on (the sensor actor's `offer` does that
   * for the node's path); dropping it would lose a reading whose offset is committed.
   */
  let windowMailboxFull = false;
  const sensorChecks = deps.sensorChecks ?? true;

  /** a reading to its actors; false: the window actor's mailbox is full, read it again next turn */
  const deliver = (r: SensorReadingRecord, bytes: Uint8Array, offset: number, length: number): boolean => {
    // copied by index: `Float64Array.from` walks the iterator protocol, ~2x the time a reading
    const values = new Float64Array(r.values.length);
    for (let i = 0; i < values.length; i++) values[i] = r.values[i]!;
    const message: SensorMessage = {
      type: "reading",
      reading: {
        sensorType: r.sensorType,
        sensorId: r.sensorId,
        eventTime: r.eventTime,
        values,
        partition: r.partition,
        offset: r.offset,
        ingestedAt: r.ingestedAt,
      },
    };
    const window = windowKey(r.sensorType, r.partition);
    if (!sensorChecks) {
      // the reading's own record: the actor keeps it in its mailbox past this turn
      if (!system.ref<WindowMessage>("window", window).tell(message as WindowMessage)) {
        windowMailboxFull = true;
        return false;
      }
    }
    // a window actor holds a partition's sensors: its checkpoint publishes one state for
    // each sensor changed since the last one, so that is what it weighs in a slice
    if (!dirtySensors.has(r.sensorId)) {
      dirtySensors.add(r.sensorId);
      dirtyWindows.set(window, (dirtyWindows.get(window) ?? 0) + 1);
    } else if (!dirtyWindows.has(window)) dirtyWindows.set(window, 1);
    const actors = actorsOf(r.partition);
    actors.windows.add(window);
    if (!sensorChecks) return true;
    const sensorsBefore = actors.sensors.size;
    actors.sensors.add(r.sensorId);
    if (actors.sensors.size !== sensorsBefore) windowOfSensor.set(r.sensorId, window);
    if (!system.ref<SensorMessage>("sensor", r.sensorId).tell(message))
      emit({
        type: "dead-letter",
        deadLetter: deadLetter(
          `actor:sensor/${r.sensorId}`,
          ErrorCodes.MAILBOX_FULL,
          `sensor mailbox full; reading ${r.partition}@${r.offset} not processed`,
          bytes.slice(offset, offset + length),
          deps.now(),
        ),
      });
    return true;
  };

  /**
   * A raw reading: read here, off the thread that polls. A value that is no reading is a dead
   * letter of the input topic with its reason and bytes; a valid one moves its partition's event
   * time whether or not the job takes its type, as the dispatcher's own reading did.
   */
  const readRaw = (bytes: Uint8Array, offset: number, length: number): boolean => {
    const r = decodeRawReading(bytes, offset, length, raw);
    // read in place in the ring's bytes: a view of the value was a `subarray` a reading
    const refused = readReadingValue(bytes, r.valueAt + r.jsonStart, fields, r.valueEnd);
    if (refused !== undefined) {
      emit({
        type: "input-dead-letter",
        deadLetter: deadLetter(
          `log:${inputTopic}/${r.partition}@${r.offset}`,
          refused.code,
          refused.reason,
          bytes.slice(r.valueAt, r.valueEnd),
          deps.now(),
        ),
      });
      return true;
    }
    observeEventTime(r.partition, fields.eventTime);
    if (acceptTypes !== undefined && !acceptTypes.has(fields.type)) return true;
    scratch.sensorType = fields.type;
    scratch.sensorId = fields.sensorId;
    scratch.eventTime = fields.eventTime;
    scratch.values = fields.values;
    scratch.partition = r.partition;
    scratch.offset = r.offset;
    scratch.ingestedAt = r.ingestedAt;
    scratch.flags = 0;
    if (deliver(scratch, bytes, offset, length)) return true;
    // read again next turn: its event time is taken again then, which changes nothing
    return false;
  };

  const handle = (bytes: Uint8Array, offset: number, length: number) => {
    if (evictionsUnsettled) return false; // stays in the ring for the next turn
    try {
      const tag = recordTagOf(bytes, offset, length);
      if (tag === RecordTags.rawReading) return readRaw(bytes, offset, length) ? undefined : false;
      if (tag === RecordTags.sensorReading) {
        const r = decodeSensorReading(bytes, offset, length, scratch);
        return deliver(r, bytes, offset, length) ? undefined : false;
      }
      const control = decodeHostInbound(bytes, offset, length);
      if (control.type === "mark")
        marks.push({
          batch: control.batch,
          checkpoint: control.checkpoint,
          watermark: control.watermark,
          eventTimes: takeEventTimes(),
        });
      else if (control.type === "evict") evict(control.partitions);
      else if (control.type === "restore" && control.kind === "window") {
        // one sensor's windows: its partition's window actor takes them in
        const { sensorType, partition, sensorId } = parseWindowKey(control.key);
        const actor = windowKey(sensorType, partition);
        const waiting = restoredWindows.get(actor);
        if (waiting === undefined) restoredWindows.set(actor, [[sensorId, control.state]]);
        else waiting.push([sensorId, control.state]);
        actorsOf(partition).windows.add(actor);
        system.ref<WindowMessage>("window", actor).tell({ type: "restored" });
        // a restored sensor may hold an open window and have gone silent: wake the actor at
        // the next watermark, when it tells its real close time
        closeTimers.schedule(actor, Number.NEGATIVE_INFINITY);
      } else if (control.type === "restore") {
        const saving = deps.snapshots.save(`${control.kind}/${control.key}`, control.state);
        if (saving instanceof Promise) saving.catch((error: unknown) => emitFailure(error, control.key));
      }
    } catch (error) {
      if (!isPlatformError(error)) throw error;
      emit({
        type: "dead-letter",
        deadLetter: deadLetter(
          `worker:${deps.worker}`,
          error.code,
          error.message,
          bytes.slice(offset, offset + length),
          deps.now(),
        ),
      });
    }
  };

  const emitFailure = (error: unknown, key: string) =>
    emit({
      type: "dead-letter",
      deadLetter: deadLetter(
        `worker:${deps.worker}`,
        ErrorCodes.ACTOR_FAILED,
        `restore of ${key}: ${String(error)}`,
        key,
        deps.now(),
      ),
    });

  const evict = (partitions: readonly number[]) => {
    evictionsUnsettled = true;
    for (const partition of partitions) {
      const actors = partitionActors.get(partition);
      if (!actors) continue;
      partitionActors.delete(partition);
      for (const key of actors.sensors) {
        dirtySensors.delete(key);
        windowOfSensor.delete(key);
        system.ref<SensorMessage>("sensor", key).tell({ type: "evict" });
      }
      for (const key of actors.windows) {
        dirtyWindows.delete(key);
        closeTimers.cancel(key);
        // entries not yet taken belong to this assignment: a later one restores its own
        restoredWindows.delete(key);
        system.ref<WindowMessage>("window", key).tell({ type: "evict" });
      }
    }
  };

  /**
   * A checkpoint asks every actor that changed since the last one for its state, a slice at a
   * time between turns of reading input, so a worker with thousands of actors never stops for
   * the whole snapshot. State taken after the checkpoint mark may include later readings; that
   * is safe, because each state carries the offset it has seen and a replay skips up to it.
   *
   * A slice is bounded by the states it publishes, not by the actors it asks: a window actor
   * holds a whole partition's sensors and publishes one state for each that changed. Counted as
   * one, the six window actors of a worker went into the last slice together (~1,500 states at
   * 3,000 sensors) and held the worker, and the window updates of every reading behind them,
   * for 80-190 ms at each checkpoint. A window actor now takes a slice of its own when its
   * changed sensors fill one (it cannot be split: its state is taken in one message).
   */
  let snapshotQueue: { kind: "sensor" | "window"; key: string; states: number }[] | undefined;

  /** the next slice of the checkpoint: at least one actor, then up to the states' budget */
  const nextSnapshotSlice = (queue: readonly { states: number }[]): number => {
    let states = queue[0]!.states;
    let taken = 1;
    while (taken < queue.length && states + queue[taken]!.states <= SNAPSHOT_STATES_PER_TURN)
      states += queue[taken++]!.states;
    return taken;
  };

  const answerMarks = async () => {
    await system.drain();
    while (marks.length > 0) {
      const mark = marks[0]!;
      if (mark.watermark !== undefined && mark.watermark > watermark) {
        // every reading before the mark is applied: event time moved, close what it passed
        watermark = mark.watermark;
        const due = closeTimers.due(watermark);
        for (const key of due) {
          if (!dirtyWindows.has(key)) dirtyWindows.set(key, 1);
          system.ref<WindowMessage>("window", key).tell({ type: "watermark", watermark });
        }
        if (due.length > 0) await system.drain();
      }
      if (mark.checkpoint) {
        if (!snapshotQueue) {
          snapshotQueue = [
            // windows only: the sensors counted for their window actor's weight have no actor
            ...(sensorChecks ? [...dirtySensors] : []).map((key) => ({
              kind: "sensor" as const,
              key,
              states: 1,
            })),
            ...[...dirtyWindows].map(([key, states]) => ({
              kind: "window" as const,
              key,
              states,
            })),
          ];
          dirtySensors.clear();
          dirtyWindows.clear();
        }
        if (snapshotQueue.length > 0) {
          for (const { kind, key } of snapshotQueue.splice(0, nextSnapshotSlice(snapshotQueue))) {
            if (kind === "sensor") system.ref<SensorMessage>("sensor", key).tell({ type: "checkpoint" });
            else system.ref<WindowMessage>("window", key).tell({ type: "checkpoint" });
          }
          await system.drain();
          if (snapshotQueue.length > 0) return; // read more input, then the next slice
        }
        snapshotQueue = undefined;
      }
      if (mark.eventTimes !== undefined)
        emit({ type: "event-times", batch: mark.batch, worker: deps.worker, times: mark.eventTimes });
      emit({ type: "mark", batch: mark.batch, worker: deps.worker });
      marks.shift();
    }
  };

  const flushPending = async () => {
    while (pending.length > 0) {
      if (write(pending[0]!)) {
        pending.shift();
        continue;
      }
      outbound.flush();
      await outbound.waitForSpace(100);
    }
    outbound.flush();
  };

  return {
    async run() {
      while (running) {
        // a few hundred records a turn: the actors start on them, and their outputs flow, sooner
        const handled = inbound.drain(handle, 512);
        if (windowMailboxFull) {
          await system.drain();
          windowMailboxFull = false;
        }
        if (evictionsUnsettled) {
          await system.drain();
          evictionsUnsettled = false;
        }
        if (marks.length > 0) await answerMarks();
        await flushPending();
        if (handled === 0 && marks.length === 0) await inbound.waitForData(50);
      }
    },
    async stop(timeoutMs) {
      running = false;
      // a stop under a backlog abandons what is still queued past `timeoutMs` (DRAIN_TIMEOUT):
      // its offsets are uncommitted, the next owner reads it again
      try {
        await system.drain(timeoutMs);
      } finally {
        await flushPending();
      }
    },
  };
}
