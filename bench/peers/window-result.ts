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
