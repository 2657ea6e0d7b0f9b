import { PHYSICAL_LIMITS, type SensorType } from "../sensor-reading.ts";
import { civilMillis } from "../sensor-reading-check.ts";

/**
 * A reading's JSON bytes read straight into the fields the workers take, validating as it
 * reads: no UTF-8 decode, no `JSON.parse` object, no schema walk, no timestamp string (those
 * cost ~0.7 us of a record's ~2.5 us on the node path at 1,000 sensors, by `bun --cpu-prof`).
 *
 * Like `checkedSensorReading`, it never decides a rejection. It answers `true` only for a
 * value that `JSON.parse` then the reading schema (zod) accept, with the same measurements and
 * the event time `epochMillisOf` gives; for anything else it answers `false`: "not sure, ask
 * the general path", which stays the one judge of what is invalid and the author of every
 * dead letter's reason. So it reads only the bytes the platform itself writes for a reading
 * (`JSON.stringify` of the schema's output: its key order, no whitespace, no escapes), with a
 * timestamp `YYYY-MM-DDTHH:MM:SS[.mmm]Z`. Another key order, whitespace, an unknown or missing
 * key, a value near a limit it cannot place exactly: `false`. A general JSON reader written in
 * JS was no faster than `JSON.parse` (~0.55 us a reading against its ~0.5 us with the decode);
 * comparing the known bytes is what pays.
 * `test/messages/codec/sensor-reading-json.test.ts` holds it to that against the schema path.
 */
export interface JsonReadingFields {
  type: SensorType;
  sensorId: string;
  eventTime: number;
  /** the measurements in MEASUREMENTS[type] order, a fresh array per reading */
  values: number[];
}

const QUOTE = 0x22;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
type Limits = readonly [number | undefined, number | undefined];

/** a type's bytes after `{"type":"`, up to its sensor id's opening quote */
const TYPE_HEADS: Readonly<Record<SensorType, Uint8Array>> = {
  traffic: ascii('traffic","sensor_id":"'),
  environment: ascii('environment","sensor_id":"'),
  utility: ascii('utility","sensor_id":"'),
};
const OPENING = ascii('{"type":"');
const TIMESTAMP_KEY = ascii('","timestamp":"');
/** each measurement's key as it follows the value before it, and its limits */
interface Measurement {
  readonly key: Uint8Array;
  readonly limits: Limits;
}
const measurement = (key: string, limits: Limits): Measurement => ({ key: ascii(key), limits });
const MEASUREMENTS: Readonly<Record<SensorType, readonly Measurement[]>> = {
  traffic: [
    measurement(',"vehicle_count":', PHYSICAL_LIMITS.vehicle_count),
    measurement(',"avg_speed":', PHYSICAL_LIMITS.avg_speed),
  ],
  environment: [
    measurement(',"temperature":', PHYSICAL_LIMITS.temperature),
    measurement(',"humidity":', PHYSICAL_LIMITS.humidity),
    measurement(',"air_quality_index":', PHYSICAL_LIMITS.air_quality_index),
  ],
  utility: [
    measurement(',"consumption":', PHYSICAL_LIMITS.consumption),
    measurement(',"voltage":', PHYSICAL_LIMITS.voltage),
    measurement(',"current":', PHYSICAL_LIMITS.current),
  ],
};
const LAT_KEY = ascii(',"location":{"lat":');
const LON_KEY = ascii(',"lon":');
const CLOSE_LOCATION = ascii("}}");
const CLOSE = ascii("}");

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** a limit-only value this close to a limit (relative) is placed exactly by the general path */
const LIMIT_MARGIN = 1e-9;

/** set by `number()`: where the number ends, and false when its value is only close */
let numberEnd = 0;
/** where the JSON being read ends: every read stops before it (the bytes past it are another record's) */
let end = 0;
let numberExact = true;

const latin1 = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * reads the JSON from `start` to `jsonEnd`, by default the end of `bytes` (a value inside a ring
 * record is read in place, without a view of its own: a `subarray` a reading in the workers)
 */
export function readSensorReadingJson(
  bytes: Uint8Array,
  start: number,
  into: JsonReadingFields,
  jsonEnd = bytes.length,
): boolean {
  end = jsonEnd;
  let at = match(bytes, start, OPENING);
  if (at < 0) return false;
  const type = typeAt(at < end ? bytes[at] : undefined);
  if (type === undefined) return false;
  at = match(bytes, at, TYPE_HEADS[type]);
  if (at < 0) return false;
  const idStart = at;
  at = sensorIdEnd(bytes, at);
  if (at < 0) return false;
  const sensorId = latin1.call(bytes, idStart, at);
  at = match(bytes, at, TIMESTAMP_KEY);
  if (at < 0) return false;
  const eventTime = timestampValue(bytes, at);
  if (Number.isNaN(eventTime)) return false;
  at = numberEnd;
  const measurements = MEASUREMENTS[type];
  const values: number[] = [];
  for (let m = 0; m < measurements.length; m++) {
    at = match(bytes, at, measurements[m]!.key);
    if (at < 0) return false;
    const value = exactWithin(bytes, at, measurements[m]!.limits);
    if (Number.isNaN(value)) return false;
    values.push(value);
    at = numberEnd;
  }
  if (type === "traffic") {
    // the schema's vehicle_count is an integer; lat and lon are only held to their limits
    if (!Number.isSafeInteger(values[0])) return false;
    at = match(bytes, at, LAT_KEY);
    if (at < 0 || !clearlyWithin(bytes, at, PHYSICAL_LIMITS.lat)) return false;
    at = match(bytes, numberEnd, LON_KEY);
    if (at < 0 || !clearlyWithin(bytes, at, PHYSICAL_LIMITS.lon)) return false;
    at = match(bytes, numberEnd, CLOSE_LOCATION);
  } else at = match(bytes, at, CLOSE);
  if (at !== end) return false;
  into.type = type;
  into.sensorId = sensorId;
  into.eventTime = eventTime;
  into.values = values;
  return true;
}

/** the index after `expected` when the bytes at `at` are it, -1 otherwise */
function match(bytes: Uint8Array, at: number, expected: Uint8Array): number {
  if (at + expected.length > end) return -1;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return -1;
  return at + expected.length;
}

function typeAt(first: number | undefined): SensorType | undefined {
  if (first === 0x74) return "traffic";
  if (first === 0x65) return "environment";
  if (first === 0x75) return "utility";
  return undefined;
}

/** the schema's sensor_id (1..64 of [A-Za-z0-9_.-]): the index of its closing quote, -1 otherwise */
function sensorIdEnd(bytes: Uint8Array, start: number): number {
  const idEnd = Math.min(end, start + 65);
  for (let i = start; i < idEnd; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) return i === start ? -1 : i;
    const ok =
      (c >= 0x61 && c <= 0x7a) || // a-z
      (c >= 0x41 && c <= 0x5a) || // A-Z
      (c >= ZERO && c <= NINE) ||
      c === 0x5f || // _
      c === DOT ||
      c === MINUS;
    if (!ok) return -1;
  }
  return -1;
}

/**
 * `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ` and its closing quote, a real calendar
 * time (what zod's ISO pattern takes of these two shapes), as epoch milliseconds, `numberEnd`
 * after the quote; NaN for any other string
 */
function timestampValue(bytes: Uint8Array, s: number): number {
  const length = bytes[s + 19] === DOT ? 24 : 20;
  if (s + length >= end || bytes[s + length] !== QUOTE || bytes[s + length - 1] !== 0x5a /* Z */)
    return Number.NaN;
  if (
    bytes[s + 4] !== MINUS ||
    bytes[s + 7] !== MINUS ||
    bytes[s + 10] !== 0x54 /* T */ ||
    bytes[s + 13] !== COLON ||
    bytes[s + 16] !== COLON
  )
    return Number.NaN;
  const year = digits(bytes, s, 4);
  const month = digits(bytes, s + 5, 2);
  const day = digits(bytes, s + 8, 2);
  const hours = digits(bytes, s + 11, 2);
  const minutes = digits(bytes, s + 14, 2);
  const seconds = digits(bytes, s + 17, 2);
  const millis = length === 24 ? digits(bytes, s + 20, 3) : 0;
  // a non-digit made one of them negative
  if ((year | month | day | hours | minutes | seconds | millis) < 0) return Number.NaN;
  numberEnd = s + length + 1;
  return civilMillis(year, month, day, hours, minutes, seconds, millis) ?? Number.NaN;
}

/** `count` decimal digits from `start`; -1 when one is not a digit */
function digits(bytes: Uint8Array, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const d = bytes[i]! - ZERO;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** a measurement: the exact double `JSON.parse` gives, inside its limits; NaN otherwise */
function exactWithin(bytes: Uint8Array, at: number, limits: Limits): number {
  // indexed, not destructured: an array pattern runs the iterator protocol on every call
  const min = limits[0];
  const max = limits[1];
  let value = number(bytes, at);
  if (!numberExact) value = Number(latin1.call(bytes, at, numberEnd));
  if (!Number.isFinite(value) || (min !== undefined && value < min) || (max !== undefined && value > max))
    return Number.NaN;
  return value;
}

/**
 * a value only checked against its limits (lat, lon are not measurements): a close value is
 * enough when it is clearly inside, which spares the string a 17-digit coordinate would need
 */
function clearlyWithin(bytes: Uint8Array, at: number, limits: Limits): boolean {
  const min = limits[0];
  const max = limits[1];
  const value = number(bytes, at);
  if (!Number.isFinite(value)) return false;
  if (numberExact) return (min === undefined || value >= min) && (max === undefined || value <= max);
  return (
    (min === undefined || value > min + LIMIT_MARGIN * Math.max(1, Math.abs(min))) &&
    (max === undefined || value < max - LIMIT_MARGIN * Math.max(1, Math.abs(max)))
  );
}

/**
 * A JSON number (RFC 8259's grammar, which `JSON.parse` holds to): its value, exact when at
 * most 15 significant digits and a power of ten within 22 (Clinger's fast path: both operands
 * exact doubles, so one correctly rounded operation), else close and `numberExact` false.
 * NaN when the text is not a JSON number.
 */
function number(bytes: Uint8Array, at: number): number {
  numberExact = true;
  let i = at;
  const negative = i < end && bytes[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let significant = 0;
  let dropped = 0;
  let c = i < end ? bytes[i] : undefined;
  if (c === ZERO) i++;
  else if (c !== undefined && c > ZERO && c <= NINE) {
    for (; i < end; i++) {
      c = bytes[i]!;
      if (c < ZERO || c > NINE) break;
      if (significant < 17) {
        mantissa = mantissa * 10 + (c - ZERO);
        significant++;
      } else dropped++;
    }
  } else return Number.NaN;
  let scale = dropped;
  if (i < end && bytes[i] === DOT) {
    i++;
    const first = i;
    for (; i < end; i++) {
      c = bytes[i]!;
      if (c < ZERO || c > NINE) break;
      if (mantissa === 0 && c === ZERO) {
        scale--; // a leading zero of the fraction is no significant digit
      } else if (significant < 17) {
        mantissa = mantissa * 10 + (c - ZERO);
        significant++;
        scale--;
      }
    }
    if (i === first) return Number.NaN;
  }
  c = i < end ? bytes[i] : undefined;
  if (c === 0x65 || c === 0x45 /* e E */) {
    i++;
    const sign = i < end && bytes[i] === MINUS ? -1 : 1;
    if (i < end && (bytes[i] === MINUS || bytes[i] === PLUS)) i++;
    const first = i;
    let exponent = 0;
    for (; i < end; i++) {
      c = bytes[i]!;
      if (c < ZERO || c > NINE) break;
      if (exponent < 100_000) exponent = exponent * 10 + (c - ZERO);
    }
    if (i === first) return Number.NaN;
    scale += sign * exponent;
  }
  numberEnd = i;
  let value: number;
  if (significant <= 15 && scale >= -22 && scale <= 22)
    value = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
  else {
    numberExact = false;
    if (mantissa === 0) value = 0;
    else if (scale >= -22 && scale <= 22)
      value = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
    else value = mantissa * 10 ** scale;
  }
  return negative ? -value : value;
}
