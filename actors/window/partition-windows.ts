import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { HotReading } from "../../messages/host-protocol.ts";
import { MEASUREMENTS, type SensorType } from "../../messages/sensor-reading.ts";
import {
  createWindowOperator,
  createWindowOutput,
  isSnapshotBytes,
  type WindowOperator,
  type WindowOperatorSnapshot,
  type WindowOutput,
} from "../../stream/index.ts";
import { savedWindowState } from "./saved-window-state.ts";
import {
  assignerOf,
  type SensorWindowsOptions,
  STATISTICS,
  sendLateAndRejected,
  toWindowResult,
} from "./sensor-windows.ts";
import type { PartitionWindows, PartitionWindowsSnapshot, WindowSink } from "./window.ts";

/**
 * The windows of every sensor of one type on one partition, in one window operator: sensors
 * interned to ids, open windows as rows of typed arrays, one close queue (issue 7 §4: an actor
 * and an operator per sensor cost most of the window path's time at 100k sensors). Each sensor
 * keeps its own stream time (the operator's per-key stream time), so its readings are judged
 * exactly as its own operator judged them, in whatever order the sensor actors deliver
 * different sensors' readings; the node's watermark closes any sensor's windows it passes.
 *
 * Durable state stays per sensor: a sensor's changelog entry, under `<type>:<partition>:<sensor>`,
 * is the snapshot bytes an operator of its own writes, its applied offset in their header, so the
 * per-sensor window actors' changelogs restore here unchanged (and the other way round). A
 * replayed reading at or below its sensor's applied offset is skipped: exactly-once counting
 * across a restore, per sensor, whatever the other sensors of the partition did.
 */
export function partitionWindowsFactory(options: SensorWindowsOptions) {
  const cacheUpdates = options.cacheUpdates ?? true;
  const assigner = assignerOf(options.window);
  const watermark = {
    maxOutOfOrdernessMs: options.maxOutOfOrdernessMs,
    idleTimeoutMs: options.idleTimeoutMs,
  };
  const aggregatorsOf = (sensorType: SensorType) =>
    Object.fromEntries(MEASUREMENTS[sensorType].map((field) => [field, STATISTICS]));
  // a sensor's state passes through an operator shaped like its own (one key, partition stream
  // time) to become the bytes that operator writes, and back: one per sensor type, reused
  const ownOperators = new Map<SensorType, WindowOperator>();
  const ownOperatorOf = (sensorType: SensorType) => {
    let operator = ownOperators.get(sensorType);
    if (operator === undefined) {
      operator = createWindowOperator({
        assigner,
        aggregators: aggregatorsOf(sensorType),
        watermark,
        graceMs: options.graceMs,
        emit: "on-update",
        initialCapacity: 8,
        clock: options.clock,
      });
      ownOperators.set(sensorType, operator);
    }
    return operator;
  };
  // one output buffer for every partition's operator: each call drains it before it returns
  const out = createWindowOutput();
  return (
    sensorType: SensorType,
    partition: number,
    snapshot?: PartitionWindowsSnapshot,
  ): PartitionWindows => {
    const operator = createWindowOperator({
      assigner,
      aggregators: aggregatorsOf(sensorType),
      watermark: { ...watermark, streamTime: "key" },
      graceMs: options.graceMs,
      emit: "on-update",
      cacheUpdates,
      ...(options.cacheMaxEntries === undefined ? {} : { cacheMaxEntries: options.cacheMaxEntries }),
      clock: options.clock,
    });
    return new OnePartitionWindows(operator, ownOperatorOf(sensorType), out, sensorType, partition, snapshot);
  };
}

class OnePartitionWindows implements PartitionWindows {
  private readonly stream: string;
  /** per key id: the offset of the sensor's last reading applied, -1 before any */
  private lastOffsets = new Float64Array(16).fill(-1);
  /** per key id: 1 while its state changed since it was last published */
  private changedFlags = new Uint8Array(16);
  private changedIds: number[] = [];
  private lastIngestedAt = 0;
  /** a reading went in since the last emitUpdates */
  private held = false;

  constructor(
    private readonly operator: WindowOperator,
    /** shaped like one sensor's own operator: converts a sensor's state to and from its bytes */
    private readonly ownOperator: WindowOperator,
    private readonly out: WindowOutput,
    private readonly sensorType: SensorType,
    private readonly partition: number,
    snapshot: PartitionWindowsSnapshot | undefined,
  ) {
    this.stream = `${sensorType}:${partition}`;
    if (snapshot === undefined) return;
    const saved = decodePartitionSnapshot(snapshot);
    operator.restore(saved.windows);
    for (let i = 0; i < saved.sensors.length; i++)
      this.setLastOffset(saved.sensors[i]!, saved.lastOffsets[i]!);
    for (const sensorId of saved.changed) this.markChanged(this.idOf(sensorId));
  }

  get changed(): number {
    return this.changedIds.length;
  }

  add(reading: HotReading, sink: WindowSink): boolean {
    const keyId = this.idOf(reading.sensorId);
    if (reading.offset <= this.lastOffsets[keyId]!) return false; // replayed after a restore
    this.lastOffsets[keyId] = reading.offset;
    this.markChanged(keyId);
    this.lastIngestedAt = reading.ingestedAt;
    this.operator.processInterned(reading.partition, keyId, reading.eventTime, reading.values, this.out);
    this.held = this.operator.config.cacheUpdates === true;
    this.drain(sink, reading.offset);
    return true;
  }

  hasCachedUpdates(): boolean {
    return this.held;
  }

  emitUpdates(sink: WindowSink): void {
    this.held = false;
    this.operator.flushUpdates(this.out);
    this.drain(sink, -1);
  }

  advance(now: number, sink: WindowSink): void {
    this.operator.advanceProcessingTime(now, this.out);
    this.drain(sink, -1);
  }

  // per-key stream time: only readings and the node's watermark (`advanceTo`) close windows
  closesInProcessingTime(): boolean {
    return false;
  }

  advanceTo(watermark: number, sink: WindowSink): void {
    this.operator.advanceWatermark(watermark, this.out);
    this.drain(sink, -1);
  }

  nextCloseAt(): number {
    return this.operator.nextCloseAt();
  }

  flush(sink: WindowSink): void {
    this.operator.flush(this.out);
    this.drain(sink, -1);
  }

  restore(sensorId: string, saved: unknown): void {
    if (saved instanceof Uint8Array && isSnapshotBytes(saved)) {
      // the live state is never older than the changelog, which is written from it
      if (this.operator.keyIdOf(sensorId) !== undefined) return;
      // straight into the partition's operator, its applied offset read from the same bytes: a
      // moved partition's ~83k sensors (1M keys over 12 partitions) each went through a scratch
      // operator and a JSON object per window before, 354 ms until the actor processed its next
      // reading (bench/partition-window-restore.ts)
      this.setLastOffset(sensorId, this.operator.restoreKeyBytes(sensorId, saved));
      return;
    }
    // the JSON an older changelog holds: through an operator of the sensor's own, as it was written
    const state = savedWindowState(saved);
    if (state === undefined) return;
    if (this.operator.keyIdOf(sensorId) !== undefined) return;
    this.ownOperator.restore(state.windows as WindowOperatorSnapshot | Uint8Array);
    this.operator.restoreKey(sensorId, this.ownOperator.snapshot());
    this.setLastOffset(sensorId, state.lastOffset);
  }

  takeChanged(): [string, Uint8Array][] {
    const states: [string, Uint8Array][] = [];
    for (const keyId of this.changedIds) {
      if (this.changedFlags[keyId] === 0) continue; // taken on its own since (takeChangedOf)
      this.changedFlags[keyId] = 0;
      const sensorId = this.operator.keyOf(keyId);
      const state = this.operator.snapshotKeyBytes(sensorId, this.lastOffsets[keyId]!, this.partition);
      if (state !== undefined) states.push([sensorId, state]);
    }
    this.changedIds = [];
    return states;
  }

  takeChangedOf(sensorId: string): Uint8Array | undefined {
    const keyId = this.operator.keyIdOf(sensorId);
    if (keyId === undefined || this.changedFlags[keyId] !== 1) return undefined;
    this.changedFlags[keyId] = 0;
    return this.operator.snapshotKeyBytes(sensorId, this.lastOffsets[keyId]!, this.partition);
  }

  snapshot(): PartitionWindowsSnapshot {
    const sensors: string[] = [];
    const offsets: number[] = [];
    for (let keyId = 0; keyId < this.operator.stats().keys; keyId++) {
      const offset = this.lastOffsets[keyId]!;
      if (offset < 0) continue;
      sensors.push(this.operator.keyOf(keyId));
      offsets.push(offset);
    }
    return encodePartitionSnapshot(
      this.operator.snapshotBytes(),
      offsets,
      sensors,
      this.changedIds.map((keyId) => this.operator.keyOf(keyId)),
    );
  }

  private setLastOffset(sensorId: string, offset: number): void {
    // the id first: interning may grow (replace) the array, and `this.lastOffsets[this.idOf(s)] = o`
    // reads the old array before the call and writes the offset where nobody looks again
    // (a restored sensor with the id at a capacity boundary replayed from -1)
    const keyId = this.idOf(sensorId);
    this.lastOffsets[keyId] = offset;
  }

  private idOf(sensorId: string): number {
    const keyId = this.operator.internKey(sensorId);
    if (keyId >= this.lastOffsets.length) {
      const offsets = new Float64Array(Math.max(keyId + 1, this.lastOffsets.length * 2)).fill(-1);
      offsets.set(this.lastOffsets);
      this.lastOffsets = offsets;
      const flags = new Uint8Array(offsets.length);
      flags.set(this.changedFlags);
      this.changedFlags = flags;
    }
    return keyId;
  }

  private markChanged(keyId: number): void {
    if (this.changedFlags[keyId] === 1) return;
    this.changedFlags[keyId] = 1;
    this.changedIds.push(keyId);
  }

  /** `offset`: the log position of the reading that caused the output, -1 for timer work */
  private drain(sink: WindowSink, offset: number): void {
    const o = this.out;
    for (let i = 0; i < o.emitted.length; i++) {
      const result = o.emitted[i]!;
      // a closed window leaves its sensor's state: the changelog must learn it (by the id the
      // operator emitted it with: a lookup by name per final was 2 % of a 100k-sensor run)
      if (result.final) this.markChanged(o.emittedKeyIds[i]!);
      sink.window(toWindowResult(this.sensorType, result), this.lastIngestedAt);
    }
    sendLateAndRejected(o, sink, this.stream, offset);
  }
}

/**
 * A passivated partition's windows as one byte string: the worker's snapshot store keeps bytes as
 * they are and anything else as JSON text, which turned typed arrays into plain objects that no
 * longer restored (the partition's windows started again from nothing when a reading woke it).
 *
 *   [0] 0x50 ('P', never the '{' the store takes for JSON)  [4] u32 W  [8] W bytes: the operator's
 *   snapshot; then u32 N, N x f64 applied offsets, then UTF-8 JSON [sensors (N), changed sensors]
 */
const PARTITION_SNAPSHOT_TAG = 0x50;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function encodePartitionSnapshot(
  windows: Uint8Array,
  offsets: readonly number[],
  sensors: readonly string[],
  changed: readonly string[],
): PartitionWindowsSnapshot {
  const names = utf8.encode(JSON.stringify([sensors, changed]));
  const bytes = new Uint8Array(8 + windows.length + 4 + offsets.length * 8 + names.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = PARTITION_SNAPSHOT_TAG;
  view.setUint32(4, windows.length, true);
  bytes.set(windows, 8);
  let at = 8 + windows.length;
  view.setUint32(at, offsets.length, true);
  at += 4;
  for (const offset of offsets) {
    view.setFloat64(at, offset, true);
    at += 8;
  }
  bytes.set(names, at);
  return bytes;
}

function decodePartitionSnapshot(bytes: PartitionWindowsSnapshot): {
  windows: Uint8Array;
  sensors: readonly string[];
  lastOffsets: Float64Array;
  changed: readonly string[];
} {
  const failed = (reason: string) =>
    new PlatformError(ErrorCodes.DECODE_FAILED, `a passivated partition's windows: ${reason}`, {
      details: { length: bytes.length },
    });
  if (!(bytes instanceof Uint8Array) || bytes.length < 12 || bytes[0] !== PARTITION_SNAPSHOT_TAG)
    throw failed("not a partition snapshot");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const windowsLength = view.getUint32(4, true);
  if (8 + windowsLength + 4 > bytes.length) throw failed("the operator's bytes run past the end");
  const windows = bytes.subarray(8, 8 + windowsLength);
  let at = 8 + windowsLength;
  const count = view.getUint32(at, true);
  at += 4;
  if (at + count * 8 > bytes.length) throw failed("the offsets run past the end");
  const lastOffsets = new Float64Array(count);
  for (let i = 0; i < count; i++, at += 8) lastOffsets[i] = view.getFloat64(at, true);
  let names: unknown;
  try {
    names = JSON.parse(utf8Strict.decode(bytes.subarray(at)));
  } catch (error) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "a passivated partition's windows: sensor names", {
      cause: error,
      details: { length: bytes.length },
    });
  }
  const [sensors, changed] = Array.isArray(names) ? names : [];
  if (!isStrings(sensors) || sensors.length !== count || !isStrings(changed)) throw failed("sensor names");
  return { windows, sensors, lastOffsets, changed };
}

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");
