import { type GeneratedReading, WINDOW_MS } from "./traffic-data.ts";

/**
 * The output value both sides write (key "sensor_id@window_start", value this JSON); Kafka
 * Streams' TrafficWindow.toJson writes the same fields. Every output is an update: the latest
 * one per key holds the window's current aggregate.
 */
export interface TrafficWindowResult {
  readonly sensor_id: string;
  readonly window_start: number;
  readonly window_end: number;
  readonly count: number;
  readonly vehicle_count: { readonly sum: number; readonly min: number; readonly max: number };
  readonly avg_speed: { readonly sum: number; readonly min: number; readonly max: number };
}

export const windowKey = (sensorId: string, windowStart: number): string => `${sensorId}@${windowStart}`;

export function encodeWindowResult(
  sensorId: string,
  windowStart: number,
  windowEnd: number,
  count: number,
  vehicle: { sum: number; min: number; max: number },
  speed: { sum: number; min: number; max: number },
): string {
  return (
    `{"sensor_id":"${sensorId}","window_start":${windowStart},"window_end":${windowEnd},"count":${count},` +
    `"vehicle_count":{"sum":${vehicle.sum},"min":${vehicle.min},"max":${vehicle.max},"avg":${vehicle.sum / count}},` +
    `"avg_speed":{"sum":${speed.sum},"min":${speed.min},"max":${speed.max},"avg":${speed.sum / count}}}`
  );
}

/** UTF-8 bytes `writeWindowResult` may take at most for a sensor id of this length */
export const windowResultBound = (sensorId: string): number =>
  3 * sensorId.length + WINDOW_RESULT_FIXED_BOUND;
// the literal text (~170 bytes) and ten numbers of at most 25 characters each
const WINDOW_RESULT_FIXED_BOUND = 170 + 10 * 25;

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const SENSOR_ID = ascii('{"sensor_id":"');
const WINDOW_START = ascii('","window_start":');
const WINDOW_END = ascii(',"window_end":');
const COUNT = ascii(',"count":');
const VEHICLE_SUM = ascii(',"vehicle_count":{"sum":');
const MIN = ascii(',"min":');
const MAX = ascii(',"max":');
const AVG = ascii(',"avg":');
const SPEED_SUM = ascii('},"avg_speed":{"sum":');
const CLOSE = ascii("}}");
const utf8 = new TextEncoder();

/**
 * `encodeWindowResult`'s text written straight into `into` at `at` as UTF-8, returning where it
 * ends: the same bytes, without the text first. Our side writes one such value per window
 * update (1.3 million in a 100k-sensor run), and the text was a rope of twenty pieces that
 * `Buffer.write` then flattened and encoded again: 18 % of the run's CPU. Integers (counts,
 * times, vehicle sums) are written digit by digit; other numbers as JavaScript prints them.
 * `into` needs `windowResultBound(sensorId)` bytes from `at`.
 */
export function writeWindowResult(
  into: Uint8Array,
  at: number,
  sensorId: string,
  windowStart: number,
  windowEnd: number,
  count: number,
  vehicle: { sum: number; min: number; max: number },
  speed: { sum: number; min: number; max: number },
): number {
  at = writeBytes(into, at, SENSOR_ID);
  at = writeText(into, at, sensorId);
  at = writeBytes(into, at, WINDOW_START);
  at = writeNumber(into, at, windowStart);
  at = writeBytes(into, at, WINDOW_END);
  at = writeNumber(into, at, windowEnd);
  at = writeBytes(into, at, COUNT);
  at = writeNumber(into, at, count);
  at = writeBytes(into, at, VEHICLE_SUM);
  at = writeStatistics(into, at, vehicle, count);
  at = writeBytes(into, at, SPEED_SUM);
  at = writeStatistics(into, at, speed, count);
  return writeBytes(into, at, CLOSE);
}

/** sum, then min, max and avg with their names: the part both fields share */
function writeStatistics(
  into: Uint8Array,
  at: number,
  field: { sum: number; min: number; max: number },
  count: number,
): number {
  at = writeNumber(into, at, field.sum);
  at = writeBytes(into, at, MIN);
  at = writeNumber(into, at, field.min);
  at = writeBytes(into, at, MAX);
  at = writeNumber(into, at, field.max);
  at = writeBytes(into, at, AVG);
  return writeNumber(into, at, field.sum / count);
}

// a loop, not `set`: the pieces are 2-24 bytes, shorter than a call into native code pays for
function writeBytes(into: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) into[at++] = bytes[i]!;
  return at;
}

function writeText(into: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return at - i + utf8.encodeInto(text, into.subarray(at - i)).written;
    into[at++] = code;
  }
  return at;
}

function writeNumber(into: Uint8Array, at: number, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) return writeText(into, at, String(value));
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = at + digits - 1; i >= at; i--) {
    const next = Math.floor(rest / 10);
    into[i] = 48 + (rest - next * 10);
    rest = next;
  }
  return at + digits;
}

/** The straightforward reference: fold every traffic reading into its 1-minute window. */
export function referenceWindows(readings: Iterable<GeneratedReading>): Map<string, TrafficWindowResult> {
  const windows = new Map<string, TrafficWindowResult>();
  for (const { traffic, eventTime } of readings) {
    if (traffic === undefined) continue;
    const start = eventTime - (eventTime % WINDOW_MS);
    const key = windowKey(traffic.sensor_id, start);
    const before = windows.get(key);
    const vc = traffic.vehicle_count;
    const sp = traffic.avg_speed;
    windows.set(key, {
      sensor_id: traffic.sensor_id,
      window_start: start,
      window_end: start + WINDOW_MS,
      count: (before?.count ?? 0) + 1,
      vehicle_count: {
        sum: (before?.vehicle_count.sum ?? 0) + vc,
        min: Math.min(before?.vehicle_count.min ?? vc, vc),
        max: Math.max(before?.vehicle_count.max ?? vc, vc),
      },
      avg_speed: {
        sum: (before?.avg_speed.sum ?? 0) + sp,
        min: Math.min(before?.avg_speed.min ?? sp, sp),
        max: Math.max(before?.avg_speed.max ?? sp, sp),
      },
    });
  }
  return windows;
}

/** Differences between two final-window maps, at most `limit` of them, as readable lines. */
export function diffWindows(
  expected: ReadonlyMap<string, TrafficWindowResult>,
  actual: ReadonlyMap<string, TrafficWindowResult>,
  limit = 10,
): string[] {
  const problems: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  for (const [key, want] of expected) {
    if (problems.length >= limit) break;
    const got = actual.get(key);
    if (got === undefined) {
      problems.push(`${key}: missing`);
      continue;
    }
    const same =
      got.count === want.count &&
      got.window_end === want.window_end &&
      close(got.vehicle_count.sum, want.vehicle_count.sum) &&
      got.vehicle_count.min === want.vehicle_count.min &&
      got.vehicle_count.max === want.vehicle_count.max &&
      close(got.avg_speed.sum, want.avg_speed.sum) &&
      got.avg_speed.min === want.avg_speed.min &&
      got.avg_speed.max === want.avg_speed.max;
    if (!same) problems.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  for (const key of actual.keys()) {
    if (problems.length >= limit) break;
    if (!expected.has(key)) problems.push(`${key}: unexpected window`);
  }
  return problems;
}
