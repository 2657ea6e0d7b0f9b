import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AggregatorSpec } from "../aggregate/aggregator.ts";
import type { PartitionWatermark, PartitionWatermarks } from "../watermark/partition-watermarks.ts";
import type { KeyDictionary } from "./key-dictionary.ts";
import type { WindowAssigner } from "./window-assigner.ts";
import type { KeyStateJson, RecordPlacement } from "./window-placement.ts";
import type { SnapshotCounts } from "./window-snapshot.ts";
import type { WindowTable } from "./window-table.ts";

/**
 * Operator state as bytes, format 0x02: what a checkpoint writes to the changelog for every
 * changed window actor, and what a restore hands to the worker untouched. The JSON form
 * (window-snapshot.ts) cost a snapshot object per key per checkpoint plus its JSON text, and on
 * restore a JSON.parse on the main thread, a re-serialisation for the worker and a parse there;
 * these bytes are written straight from the window table's rows and read straight back into
 * them, once, in the worker that owns the key.
 *
 * The first byte is the format: a JSON state starts with `{` (0x7b), so changelogs written
 * before this encoding still restore (`isSnapshotBytes`), and so do format 0x01 states. Little-
 * endian; the numbers are float64 and 8-byte aligned up to the key table, so they are copied as
 * one Float64Array:
 *
 *   off  size      field
 *    0   u8        format = 0x02
 *    1   u8        flags: 1 watermark present, 2 per-key stream times, 4 custom aggregator states
 *    2   u16       F = fields
 *    4   u32       0 (format 0x01: FNV-1a of JSON [assigner, fields])
 *    8   f64       applied offset: the input offset of the last record the owner applied (-1 none)
 *   16   f64       watermark (flag 1)
 *   24   f64       next window sequence number
 *   32   4 x f64   counts: processed, emitted, late, rejected
 *   64   u32 x 6   P partitions, W windows, S stream times, K key states, N keys, R = 1 + 5F
 *   88   16        config fingerprint (format 0x02 only; 0x01 goes on at 88 with the partitions)
 *  104   P x 5 f64 partition, max event time, watermark, idle (0/1), last record at
 *        W x (4+R) f64  key index, start, end, seq, count, then [mean, m2, sum, min, max] per field
 *        S x 2 f64 key index, max event time
 *        K x (2+n) f64  key index, n, then n numbers (the sliding record buffer)
 *        N x (u16 length + UTF-8)  the keys the entries above name by index
 *        W x (u32 length + UTF-8 JSON)  custom aggregator states per window (flag 4 only)
 *
 * Windows are in sequence order: a restore links them in that order, so each key's list comes
 * back newest first and windows closing together are emitted in the order they were created.
 *
 * The configuration is checked, never restored (aggregators hold code). Format 0x01 checked a
 * 32-bit FNV-1a of the assigner and field list: two configurations in 2^16 or so share one (two
 * tumbling sizes do, see the test), and a state restored under the other meant windows of the
 * wrong length counted on silently, while a changed t-digest compression or custom aggregator
 * went unseen. The fingerprint is a 128-bit FNV-1a over the UTF-8 of a canonical text of what
 * the state's meaning depends on (`configText`): an accidental match is out of reach (2^-64 by
 * the birthday bound over every configuration ever written), and it is pure computation, so
 * stream/ stays free of I/O modules (a cryptographic hash would add nothing here: the config is
 * ours, not an adversary's).
 */
export const WINDOW_SNAPSHOT_FORMAT = 0x02;
/** the first encoding, still read: a 32-bit config hash and no fingerprint */
const FORMAT_1 = 0x01;
/** where the numbers start (format 0x01: at 88, the fingerprint's place) */
const HEADER = 104;
const HEADER_1 = 88;
const FINGERPRINT_AT = 88;
const FINGERPRINT_BYTES = 16;
const FLAG_WATERMARK = 1;
const FLAG_STREAM_TIMES = 2;
const FLAG_OBJECTS = 4;
const PARTITION_DOUBLES = 5;

const encoder = new TextEncoder();
/** what a placement without per-key state (tumbling, hopping, session) gives: nothing, shared */
const NO_KEY_STATES: readonly KeyStateJson[] = [];
const decoder = new TextDecoder("utf-8", { fatal: true });

interface SnapshotParts {
  /** `aggregators` (the field list's source) lets operators of one factory share a config hash */
  readonly config: { readonly assigner: WindowAssigner; readonly aggregators?: object };
  readonly fields: readonly string[];
  readonly table: WindowTable;
  readonly keys: KeyDictionary;
  readonly watermarks: PartitionWatermarks;
  readonly placement: RecordPlacement;
}

/** what a state's meaning is checked against (`configText`) */
type ConfigParts = Pick<SnapshotParts, "config" | "fields" | "table">;

export interface SnapshotBytesSource extends SnapshotParts {
  readonly nextSeq: number;
  readonly counts: SnapshotCounts;
  /** per-key stream time mode: a key's max event time (-Infinity: none) */
  readonly keyStreamTime?: (keyId: number) => number;
  /**
   * Only this key's state, in the form an operator of that key's own writes: its windows and key
   * state, and its stream time as the one partition's watermark (no per-key stream times).
   */
  readonly onlyKey?: {
    readonly keyId: number;
    readonly watermark: number;
    readonly partitions: readonly PartitionWatermark[];
  };
}

export interface RestoredFromBytes {
  readonly nextSeq: number;
  readonly counts: SnapshotCounts;
  readonly appliedOffset: number;
  readonly keyStreamTimes: readonly (readonly [string, number])[];
}

/** whether a stored state is this encoding or format 0x01 (not the JSON one written before) */
export function isSnapshotBytes(bytes: Uint8Array): boolean {
  return headerLengthOf(bytes) !== undefined;
}

/** the applied offset a snapshot carries, without reading the rest */
export function appliedOffsetOf(bytes: Uint8Array): number {
  checkHeader(bytes);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(8, true);
}

// one growing scratch buffer per thread: an encode allocates only its result
let scratch = new ArrayBuffer(4096);
let doubles = new Float64Array(scratch);
let octets = new Uint8Array(scratch);
let slots = new Int32Array(64);
let view = new DataView(scratch);
let keyIndex = new Int32Array(64);
let namedKeys = new Int32Array(8);
/** keys named so far by the snapshot being written */
let keyCount = 0;

/** the index of a key in the key table of the snapshot being written, given one on first use */
function indexOfKey(keyId: number): number {
  if (keyIndex[keyId]! < 0) keyIndex[keyId] = keyCount++;
  return keyIndex[keyId]!;
}

/** assigner -> aggregators (or the field list) -> check: the window actors of a node share both */
const hashes = new WeakMap<object, WeakMap<object, number>>();
const fingerprints = new WeakMap<object, WeakMap<object, Uint8Array>>();

function reserve(bytes: number): void {
  if (bytes <= scratch.byteLength) return;
  const grown = new ArrayBuffer(Math.max(bytes, scratch.byteLength * 2));
  new Uint8Array(grown).set(octets);
  scratch = grown;
  doubles = new Float64Array(scratch);
  octets = new Uint8Array(scratch);
  view = new DataView(scratch);
}

/** one value per assigner and aggregators (or field list), computed once */
function memoized<T>(cache: WeakMap<object, WeakMap<object, T>>, parts: ConfigParts, compute: () => T): T {
  const { assigner } = parts.config;
  const fieldsKey = parts.config.aggregators ?? parts.fields;
  let byFields = cache.get(assigner);
  if (byFields === undefined) {
    byFields = new WeakMap();
    cache.set(assigner, byFields);
  }
  let value = byFields.get(fieldsKey);
  if (value === undefined) {
    value = compute();
    byFields.set(fieldsKey, value);
  }
  return value;
}

/** format 0x01's check: FNV-1a over JSON [assigner, fields] */
function configHash(parts: ConfigParts): number {
  return memoized(hashes, parts, () => {
    const text = JSON.stringify([parts.config.assigner, parts.fields]);
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return hash;
  });
}

function configFingerprint(parts: ConfigParts): Uint8Array {
  return memoized(fingerprints, parts, () => fnv1a128(new TextEncoder().encode(configText(parts))));
}

const FNV128_OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const FNV128_PRIME = 0x0000000001000000000000000000013bn;
const MASK_128 = (1n << 128n) - 1n;

/** FNV-1a with the 128-bit parameters, big-endian: once per configuration (memoized), so BigInt's cost does not matter */
function fnv1a128(bytes: Uint8Array): Uint8Array {
  let hash = FNV128_OFFSET;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV128_PRIME) & MASK_128;
  const out = new Uint8Array(FINGERPRINT_BYTES);
  for (let i = FINGERPRINT_BYTES - 1; i >= 0; i--) {
    out[i] = Number(hash & 0xffn);
    hash >>= 8n;
  }
  return out;
}

/**
 * What a state's meaning depends on, as canonical JSON (object keys sorted): the assigner, the
 * fields in row order, and the object aggregators in the order their states are stored (a
 * t-digest's compression, a custom aggregator's name). The moment statistics reported are not
 * in it: every field's row holds the same moments whichever of them are reported, so adding
 * `max` to a field keeps its windows.
 */
export function configText(parts: ConfigParts): string {
  const aggregators = parts.config.aggregators as
    | Readonly<Record<string, readonly AggregatorSpec[]>>
    | undefined;
  const objects: unknown[] = [];
  if (aggregators === undefined)
    for (const o of parts.table.plan.objects) objects.push([parts.fields[o.fieldIndex], o.name]);
  else
    for (const field of parts.fields)
      for (const spec of aggregators[field] ?? []) {
        if (typeof spec === "string") continue;
        objects.push(
          "quantiles" in spec
            ? [field, "t-digest", spec.compression ?? 100]
            : [field, "aggregator", spec.name],
        );
      }
  return canonicalJson({ assigner: parts.config.assigner, fields: parts.fields, objects });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const names = Object.keys(record)
      .filter((name) => record[name] !== undefined)
      .sort();
    return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalJson(record[name])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function encodeSnapshotBytes(source: SnapshotBytesSource, appliedOffset: number): Uint8Array {
  const { table, keys } = source;
  const fieldCount = source.fields.length;
  const rowLength = table.stateLength;
  const only = source.onlyKey;
  // one key's state touches only that key's entries: a partition operator writes one per changed
  // key at a checkpoint, and a pass over all its keys each time made a checkpoint quadratic
  const firstKey = only === undefined ? 0 : only.keyId;
  const endKey = only === undefined ? keys.size : only.keyId + 1;
  if (keys.size > keyIndex.length) keyIndex = new Int32Array(Math.max(keys.size, keyIndex.length * 2));
  keyIndex.fill(-1, firstKey, endKey);
  keyCount = 0;

  let windowCount = 0;
  for (let keyId = firstKey; keyId < endKey; keyId++) {
    for (let slot = table.keyHead[keyId] ?? -1; slot >= 0; slot = table.nextOf(slot)) {
      if (windowCount === slots.length) {
        const grown = new Int32Array(slots.length * 2);
        grown.set(slots);
        slots = grown;
      }
      slots[windowCount++] = slot;
    }
  }
  sortBySeq(table, windowCount);
  const partitions = only === undefined ? source.watermarks.partitions() : only.partitions;
  const keyStates =
    source.placement.snapshotKeys?.((keyId) => keys.keyOf(keyId), only?.keyId) ?? NO_KEY_STATES;
  let streamTimes = 0;
  if (source.keyStreamTime && only === undefined)
    for (let keyId = 0; keyId < keys.size; keyId++)
      if (source.keyStreamTime(keyId) !== Number.NEGATIVE_INFINITY) streamTimes++;
  let keyStateDoubles = 0;
  for (const state of keyStates) keyStateDoubles += 2 + state.records.length;

  const numbers =
    HEADER / 8 +
    partitions.length * PARTITION_DOUBLES +
    windowCount * (4 + rowLength) +
    streamTimes * 2 +
    keyStateDoubles;
  reserve(numbers * 8);
  const d = doubles;
  let at = HEADER / 8;
  for (const p of partitions) {
    d[at] = p.partition;
    d[at + 1] = p.maxEventTime;
    d[at + 2] = p.watermark;
    d[at + 3] = p.idle ? 1 : 0;
    d[at + 4] = p.lastRecordAt;
    at += PARTITION_DOUBLES;
  }
  for (let i = 0; i < windowCount; i++) {
    const slot = slots[i]!;
    d[at] = indexOfKey(table.keyIdOf(slot));
    d[at + 1] = table.startOf(slot);
    d[at + 2] = table.endOf(slot);
    d[at + 3] = table.seqOf(slot);
    table.copyStateTo(slot, d, at + 4);
    at += 4 + rowLength;
  }
  if (source.keyStreamTime && only === undefined)
    for (let keyId = 0; keyId < keys.size; keyId++) {
      const max = source.keyStreamTime(keyId);
      if (max === Number.NEGATIVE_INFINITY) continue;
      d[at] = indexOfKey(keyId);
      d[at + 1] = max;
      at += 2;
    }
  for (const state of keyStates) {
    const keyId = keys.idOf(state.key);
    if (keyId === undefined) throw encodeFailed(`key state of ${state.key}, a key the operator never saw`);
    d[at] = indexOfKey(keyId);
    d[at + 1] = state.records.length;
    for (let i = 0; i < state.records.length; i++) d[at + 2 + i] = state.records[i]!;
    at += 2 + state.records.length;
  }

  // the key table, in index order (the order keys were first named above)
  let byte = at * 8;
  if (keyCount > namedKeys.length) namedKeys = new Int32Array(Math.max(keyCount, namedKeys.length * 2));
  for (let keyId = firstKey; keyId < endKey; keyId++)
    if (keyIndex[keyId]! >= 0) namedKeys[keyIndex[keyId]!] = keyId;
  for (let i = 0; i < keyCount; i++) {
    const key = keys.keyOf(namedKeys[i]!);
    reserve(byte + 2 + key.length * 3);
    const written = writeUtf8(key, byte + 2);
    if (written > 0xffff) throw encodeFailed("a window key longer than 65535 UTF-8 bytes");
    octets[byte] = written & 0xff;
    octets[byte + 1] = written >>> 8;
    byte += 2 + written;
  }
  const withObjects = table.plan.objects.length > 0;
  if (withObjects)
    for (let i = 0; i < windowCount; i++) {
      const json = encoder.encode(JSON.stringify(table.objectsState(slots[i]!)));
      reserve(byte + 4 + json.length);
      view.setUint32(byte, json.length, true);
      octets.set(json, byte + 4);
      byte += 4 + json.length;
    }

  const watermark = only === undefined ? source.watermarks.current : only.watermark;
  octets[0] = WINDOW_SNAPSHOT_FORMAT;
  octets[1] =
    (watermark === Number.NEGATIVE_INFINITY ? 0 : FLAG_WATERMARK) |
    (source.keyStreamTime && only === undefined ? FLAG_STREAM_TIMES : 0) |
    (withObjects ? FLAG_OBJECTS : 0);
  view.setUint16(2, fieldCount, true);
  view.setUint32(4, 0, true);
  octets.set(configFingerprint(source), FINGERPRINT_AT);
  view.setFloat64(8, appliedOffset, true);
  view.setFloat64(16, watermark === Number.NEGATIVE_INFINITY ? 0 : watermark, true);
  view.setFloat64(24, source.nextSeq, true);
  view.setFloat64(32, source.counts.processed, true);
  view.setFloat64(40, source.counts.emitted, true);
  view.setFloat64(48, source.counts.late, true);
  view.setFloat64(56, source.counts.rejected, true);
  view.setUint32(64, partitions.length, true);
  view.setUint32(68, windowCount, true);
  view.setUint32(72, streamTimes, true);
  view.setUint32(76, keyStates.length, true);
  view.setUint32(80, keyCount, true);
  view.setUint32(84, rowLength, true);
  return octets.slice(0, byte);
}

/**
 * Loads a snapshot into freshly created parts, as `readSnapshot` does for the JSON form;
 * `requeue` queues each window's close. Any byte string may arrive here (a corrupt changelog
 * record): every count is checked against the length before it is used, and a snapshot that
 * does not fit fails with DECODE_FAILED, one of another configuration with CONFIG_INVALID.
 */
export function readSnapshotBytes(
  bytes: Uint8Array,
  parts: SnapshotParts & { readonly requeue: (slot: number) => void },
): RestoredFromBytes {
  const snapshot = parseSnapshotBytes(bytes, parts);
  const { table, keys } = parts;
  const { numbers, rowLength } = snapshot;
  const keyIds = snapshot.keys.map((key) => {
    const keyId = keys.intern(key);
    table.ensureKeys(keyId + 1);
    return keyId;
  });
  for (let i = 0, w = snapshot.windowsAt; i < snapshot.windowCount; i++, w += 4 + rowLength) {
    const slot = table.allocate(keyIds[numbers[w]!]!, numbers[w + 1]!, numbers[w + 2]!, numbers[w + 3]!);
    table.copyStateFrom(slot, numbers, w + 4);
    if (snapshot.objects) restoreObjects(table, slot, snapshot.objects[i]!);
    parts.requeue(slot);
  }
  for (let i = 0, k = snapshot.keyStatesAt; i < snapshot.keyStateCount; i++) {
    const n = numbers[k + 1]!;
    const keyId = keyIds[numbers[k]!]!;
    parts.placement.restoreKey?.(keyId, {
      key: keys.keyOf(keyId),
      records: Array.from(numbers.subarray(k + 2, k + 2 + n)),
    });
    k += 2 + n;
  }
  const keyStreamTimes: [string, number][] = [];
  for (let i = 0, s = snapshot.streamTimesAt; i < snapshot.streamTimes; i++, s += 2)
    keyStreamTimes.push([snapshot.keys[numbers[s]!]!, numbers[s + 1]!]);
  parts.watermarks.restore(snapshot.partitions, snapshot.watermark);
  return {
    nextSeq: snapshot.nextSeq,
    counts: snapshot.counts,
    appliedOffset: snapshot.appliedOffset,
    keyStreamTimes,
  };
}

/** what a per-key operator needs to take one key's state straight from its bytes */
export interface KeySnapshotParts extends ConfigParts {
  /** a window of the key with a fresh sequence number, its close queued: its slot */
  readonly open: (start: number, end: number) => number;
  /** the key's record buffer (sliding windows) */
  readonly restoreKeyState: (state: KeyStateJson) => void;
}

export interface KeyRestoredFromBytes {
  /** the snapshot's watermark, -Infinity when it has none */
  readonly watermark: number;
  readonly partitions: readonly PartitionWatermark[];
  readonly appliedOffset: number;
}

/**
 * Adds the state of `key` in `bytes` (written by an operator of that key's own, or by
 * `snapshotKeyBytes`) to a per-key stream time operator beside its other keys, straight from the
 * rows: what `restore` into an operator of its own and `restoreKey` of its `snapshot()` gave,
 * without the scratch operator and a JSON object per window (a partition's window actor
 * restores each of its ~83k sensors this way when its partition moves, issue 7 §4). Windows are
 * opened in the snapshot's sequence order with the target's sequence numbers; stream times of
 * other keys are ignored, a window of another key fails with DECODE_FAILED before anything is
 * added, and the same checks as `readSnapshotBytes` refuse a corrupt or foreign snapshot.
 */
export function readKeySnapshotBytes(
  bytes: Uint8Array,
  key: string,
  parts: KeySnapshotParts,
): KeyRestoredFromBytes {
  const snapshot = parseSnapshotBytes(bytes, parts);
  const { numbers, rowLength, keys } = snapshot;
  for (let i = 0, w = snapshot.windowsAt; i < snapshot.windowCount; i++, w += 4 + rowLength)
    if (keys[numbers[w]!] !== key) {
      throw new PlatformError(ErrorCodes.DECODE_FAILED, "window snapshot: a window of another key", {
        details: { keys: [key, keys[numbers[w]!]] },
      });
    }
  for (let i = 0, w = snapshot.windowsAt; i < snapshot.windowCount; i++, w += 4 + rowLength) {
    const slot = parts.open(numbers[w + 1]!, numbers[w + 2]!);
    parts.table.copyStateFrom(slot, numbers, w + 4);
    if (snapshot.objects) restoreObjects(parts.table, slot, snapshot.objects[i]!);
  }
  for (let i = 0, k = snapshot.keyStatesAt; i < snapshot.keyStateCount; i++) {
    const n = numbers[k + 1]!;
    if (keys[numbers[k]!] === key)
      parts.restoreKeyState({ key, records: Array.from(numbers.subarray(k + 2, k + 2 + n)) });
    k += 2 + n;
  }
  return {
    watermark: snapshot.watermark,
    partitions: snapshot.partitions,
    appliedOffset: snapshot.appliedOffset,
  };
}

/**
 * A snapshot up to this long is read from a copy in one reused aligned buffer: a sensor's state
 * is a few hundred bytes, and a DataView and a Float64Array over each of a moved partition's
 * 83k states (their `.buffer` materialised per state) cost more than copying it (bench/partition-window-restore.ts).
 */
const READ_COPY_LIMIT = 1 << 16;
let readScratch = new ArrayBuffer(4096);
let readOctets = new Uint8Array(readScratch);
let readDoubles = new Float64Array(readScratch);
let readView = new DataView(readScratch);

function copyForReading(bytes: Uint8Array): void {
  if (bytes.length > readScratch.byteLength) {
    readScratch = new ArrayBuffer(READ_COPY_LIMIT);
    readOctets = new Uint8Array(readScratch);
    readDoubles = new Float64Array(readScratch);
    readView = new DataView(readScratch);
  }
  readOctets.set(bytes);
}

interface ParsedSnapshot {
  /** valid until the next snapshot is read: the numbers may be the shared copy */
  readonly numbers: Float64Array;
  readonly rowLength: number;
  readonly partitions: PartitionWatermark[];
  readonly watermark: number;
  readonly nextSeq: number;
  readonly counts: SnapshotCounts;
  readonly appliedOffset: number;
  readonly windowsAt: number;
  readonly windowCount: number;
  readonly streamTimesAt: number;
  readonly streamTimes: number;
  readonly keyStatesAt: number;
  readonly keyStateCount: number;
  /** the key table; every key index above is checked to be one of its indexes */
  readonly keys: readonly string[];
  readonly objects: unknown[][] | undefined;
}

/**
 * Checks a snapshot whole and reads its layout, allocating nothing in any operator: a corrupt
 * snapshot restores nothing.
 */
function parseSnapshotBytes(bytes: Uint8Array, parts: ConfigParts): ParsedSnapshot {
  const header = checkHeader(bytes);
  const copied = bytes.length <= READ_COPY_LIMIT;
  if (copied) copyForReading(bytes);
  const view = copied ? readView : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = bytes[1]!;
  const rowLength = parts.table.stateLength;
  if (view.getUint16(2, true) !== parts.fields.length || view.getUint32(84, true) !== rowLength) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "snapshot was taken with another field list", {
      details: { fields: view.getUint16(2, true), expected: parts.fields.length },
    });
  }
  const sameConfig =
    header === HEADER_1
      ? view.getUint32(4, true) === configHash(parts)
      : sameBytes(bytes, FINGERPRINT_AT, configFingerprint(parts));
  if (!sameConfig) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "snapshot was taken with another assigner, field list or aggregators",
    );
  }
  const partitionCount = view.getUint32(64, true);
  const windowCount = view.getUint32(68, true);
  const streamTimes = view.getUint32(72, true);
  const keyStateCount = view.getUint32(76, true);
  const keyCount = view.getUint32(80, true);
  const fixed =
    header / 8 + partitionCount * PARTITION_DOUBLES + windowCount * (4 + rowLength) + streamTimes * 2;
  if (fixed * 8 > bytes.length) throw decodeFailed("its windows run past its end", bytes.length);
  // aligned numbers: a view when the bytes allow it, one copy when they do not
  // (a copy is as long as its scratch: only the first `numberCount` are the snapshot's)
  const numberCount = Math.floor(bytes.length / 8);
  const numbers = copied
    ? readDoubles
    : bytes.byteOffset % 8 === 0
      ? new Float64Array(bytes.buffer, bytes.byteOffset, numberCount)
      : new Float64Array(bytes.slice(0, bytes.length - (bytes.length % 8)).buffer);
  let at = header / 8;
  const partitions: PartitionWatermark[] = [];
  for (let i = 0; i < partitionCount; i++, at += PARTITION_DOUBLES)
    partitions.push({
      partition: numbers[at]!,
      maxEventTime: numbers[at + 1]!,
      watermark: numbers[at + 2]!,
      idle: numbers[at + 3] === 1,
      lastRecordAt: numbers[at + 4]!,
    });
  const windowsAt = at;
  at += windowCount * (4 + rowLength);
  const streamTimesAt = at;
  at += streamTimes * 2;
  const keyStatesAt = at;
  for (let i = 0; i < keyStateCount; i++) {
    if (at + 2 > numberCount) throw decodeFailed("its key states run past its end", bytes.length);
    const n = numbers[at + 1]!;
    if (!Number.isInteger(n) || n < 0 || at + 2 + n > numberCount)
      throw decodeFailed("a key state runs past its end", bytes.length);
    at += 2 + n;
  }
  // the key table
  let byte = at * 8;
  const keys: string[] = new Array(keyCount);
  for (let i = 0; i < keyCount; i++) {
    if (byte + 2 > bytes.length) throw decodeFailed("its key table runs past its end", bytes.length);
    const length = bytes[byte]! | (bytes[byte + 1]! << 8);
    if (byte + 2 + length > bytes.length) throw decodeFailed("a key runs past its end", bytes.length);
    keys[i] = decodeText(bytes, byte + 2, length);
    byte += 2 + length;
  }
  const checkKey = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= keyCount)
      throw decodeFailed(`key index ${index} is not in its key table`, bytes.length);
  };
  let objects: unknown[][] | undefined;
  if ((flags & FLAG_OBJECTS) !== 0) {
    objects = [];
    for (let i = 0; i < windowCount; i++) {
      if (byte + 4 > bytes.length) throw decodeFailed("its aggregator states run past its end", bytes.length);
      const length = view.getUint32(byte, true);
      if (byte + 4 + length > bytes.length)
        throw decodeFailed("an aggregator state runs past its end", bytes.length);
      const state = parseJson(decodeText(bytes, byte + 4, length));
      if (!Array.isArray(state)) throw decodeFailed("an aggregator state is not a list", bytes.length);
      objects.push(state);
      byte += 4 + length;
    }
  }
  if (byte !== bytes.length) throw decodeFailed(`${bytes.length - byte} bytes after its end`, bytes.length);

  let lastSeq = Number.NEGATIVE_INFINITY;
  for (let i = 0, w = windowsAt; i < windowCount; i++, w += 4 + rowLength) {
    checkKey(numbers[w]!);
    // sequence order is what makes windows closing together come out as they would have
    if (!(numbers[w + 3]! > lastSeq))
      throw decodeFailed("its windows are not in sequence order", bytes.length);
    lastSeq = numbers[w + 3]!;
  }
  for (let i = 0, s = streamTimesAt; i < streamTimes; i++, s += 2) checkKey(numbers[s]!);
  for (let i = 0, k = keyStatesAt; i < keyStateCount; i++) {
    checkKey(numbers[k]!);
    k += 2 + numbers[k + 1]!;
  }
  return {
    numbers,
    rowLength,
    partitions,
    watermark: (flags & FLAG_WATERMARK) !== 0 ? view.getFloat64(16, true) : Number.NEGATIVE_INFINITY,
    nextSeq: view.getFloat64(24, true),
    counts: {
      processed: view.getFloat64(32, true),
      emitted: view.getFloat64(40, true),
      late: view.getFloat64(48, true),
      rejected: view.getFloat64(56, true),
    },
    appliedOffset: view.getFloat64(8, true),
    windowsAt,
    windowCount,
    streamTimesAt,
    streamTimes,
    keyStatesAt,
    keyStateCount,
    keys,
    objects,
  };
}

/** insertion sort of the first `count` slots by seq: an operator of one sensor has a handful */
/**
 * `key` as UTF-8 into the scratch bytes from `at` (room reserved), returning the bytes written:
 * an ASCII key (a sensor id) byte by byte, any other through the encoder. The encoder needs a
 * view to write into, and a view per key was a fifth of a one-key state's encoding.
 */
function writeUtf8(key: string, at: number): number {
  const length = key.length;
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return encoder.encodeInto(key, octets.subarray(at)).written;
    octets[at + i] = code;
  }
  return length;
}

function sortBySeq(table: WindowTable, count: number): void {
  for (let i = 1; i < count; i++) {
    const slot = slots[i]!;
    const seq = table.seqOf(slot);
    let j = i - 1;
    while (j >= 0 && table.seqOf(slots[j]!) > seq) {
      slots[j + 1] = slots[j]!;
      j--;
    }
    slots[j + 1] = slot;
  }
}

/** the header's length by the format byte, undefined when the bytes are not a window snapshot */
function headerLengthOf(bytes: Uint8Array): number | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  const header = bytes[0] === WINDOW_SNAPSHOT_FORMAT ? HEADER : bytes[0] === FORMAT_1 ? HEADER_1 : undefined;
  return header !== undefined && bytes.length >= header ? header : undefined;
}

function checkHeader(bytes: Uint8Array): number {
  const header = headerLengthOf(bytes);
  if (header === undefined) throw decodeFailed("not a format 1 or 2 window snapshot", bytes?.length ?? 0);
  return header;
}

function sameBytes(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

function decodeText(bytes: Uint8Array, offset: number, length: number): string {
  try {
    return decoder.decode(bytes.subarray(offset, offset + length));
  } catch (error) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "window snapshot: a key is not UTF-8", {
      cause: error,
    });
  }
}

/** an aggregator's own fromJSON meets whatever JSON a corrupt record holds */
function restoreObjects(table: WindowTable, slot: number, states: unknown[]): void {
  try {
    table.restoreObjects(slot, states);
  } catch (error) {
    throw new PlatformError(
      ErrorCodes.DECODE_FAILED,
      "window snapshot: an aggregator state does not restore",
      {
        cause: error,
      },
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "window snapshot: an aggregator state is not JSON", {
      cause: error,
    });
  }
}

function decodeFailed(why: string, length: number): PlatformError {
  return new PlatformError(ErrorCodes.DECODE_FAILED, `window snapshot: ${why}`, { details: { length } });
}

function encodeFailed(why: string): PlatformError {
  return new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `window snapshot: ${why}`);
}
