import type { Log, ProducerRecord } from "../../log/log.ts";
import type { EnvironmentReading, TrafficReading } from "../../messages/sensor-reading.ts";

/**
 * The input of the peer benchmark: readings as messages/sensor-reading.ts defines them, JSON,
 * keyed by sensor_id. Deterministic for a seed (xorshift32), so every run and both sides see the
 * same bytes. Event times advance evenly over `spanMs` with +-`jitterMs` of disorder, which stays
 * well inside the windows' grace, so neither side drops a record as late and their results can
 * be compared window by window. A share of environment readings is mixed in so the traffic
 * filter has something to remove.
 */
export interface TrafficDataSpec {
  readonly records: number;
  readonly sensors: number;
  /** event time of the first record; the last is about firstEventTime + spanMs */
  readonly firstEventTime: number;
  readonly spanMs: number;
  readonly jitterMs: number;
  /** fraction of environment (non-traffic) readings, 0..1 */
  readonly nonTrafficShare: number;
  readonly seed: number;
  /**
   * skew: this share of the readings (0..1) comes from the first `hotSensors` sensors, the rest
   * from the others, each group uniformly; unset, every sensor is equally likely
   */
  readonly hotShare?: number;
  readonly hotSensors?: number;
}

export interface GeneratedReading {
  readonly key: string;
  readonly value: string;
  readonly eventTime: number;
  readonly traffic: TrafficReading | undefined;
}

export const WINDOW_MS = 60_000;

export function defaultSpec(records: number, overrides: Partial<TrafficDataSpec> = {}): TrafficDataSpec {
  return {
    records,
    sensors: 1_000,
    firstEventTime: Date.now() - 31 * 60_000,
    spanMs: 30 * 60_000,
    jitterMs: 2_000,
    nonTrafficShare: 0.1,
    seed: 20_240_304,
    ...overrides,
  };
}

/** Readings one by one; `eventTimeOf` overrides the spread (the latency phase uses the wall clock). */
export function* generateReadings(
  spec: TrafficDataSpec,
  eventTimeOf?: (index: number) => number,
): Generator<GeneratedReading> {
  let seed = spec.seed >>> 0 || 1;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4_294_967_296;
  };
  const names = Array.from({ length: spec.sensors }, (_, i) => `sensor-${i.toString().padStart(5, "0")}`);
  const hot = Math.min(spec.hotSensors ?? 0, spec.sensors - 1);
  const hotShare = hot > 0 ? (spec.hotShare ?? 0) : 0;
  const pickSensor = (): number => {
    if (hotShare === 0) return Math.floor(next() * spec.sensors);
    return next() < hotShare ? Math.floor(next() * hot) : hot + Math.floor(next() * (spec.sensors - hot));
  };
  for (let i = 0; i < spec.records; i++) {
    const sensor = pickSensor();
    const spread = spec.firstEventTime + Math.floor((i / spec.records) * spec.spanMs);
    const jitter = Math.round((next() * 2 - 1) * spec.jitterMs);
    const eventTime = eventTimeOf === undefined ? spread + jitter : eventTimeOf(i);
    const timestamp = new Date(eventTime).toISOString();
    const sensorId = names[sensor]!;
    const location = { lat: 52.37 + sensor * 1e-4, lon: 4.89 + sensor * 1e-4 };
    if (next() < spec.nonTrafficShare) {
      const reading: EnvironmentReading = {
        type: "environment",
        sensor_id: sensorId,
        timestamp,
        temperature: Math.round(next() * 300) / 10,
        humidity: Math.round(next() * 1000) / 10,
        air_quality_index: Math.floor(next() * 200),
      };
      yield { key: sensorId, value: JSON.stringify(reading), eventTime, traffic: undefined };
      continue;
    }
    const reading: TrafficReading = {
      type: "traffic",
      sensor_id: sensorId,
      timestamp,
      vehicle_count: Math.floor(next() * 80),
      avg_speed: Math.round((10 + next() * 80) * 10) / 10,
      location,
    };
    yield { key: sensorId, value: JSON.stringify(reading), eventTime, traffic: reading };
  }
}

const encoder = new TextEncoder();

export interface ProducedReading {
  readonly reading: GeneratedReading;
  /** wall clock when the append was issued; also the Kafka record timestamp */
  readonly producedAt: number;
}

/**
 * Appends readings through the Log port in batches, several in flight (the adapter's batcher
 * merges them into produce requests); the record timestamp is the wall clock at produce time.
 */
export async function produceReadings(
  log: Log,
  topic: string,
  readings: Iterable<GeneratedReading>,
  options: { batch?: number; inFlight?: number; onProduced?: (produced: ProducedReading) => void } = {},
): Promise<number> {
  const batchSize = options.batch ?? 2_000;
  const maxInFlight = options.inFlight ?? 8;
  const pending = new Set<Promise<unknown>>();
  let batch: ProducerRecord[] = [];
  let count = 0;
  const send = async (records: ProducerRecord[]): Promise<void> => {
    const sent = log.append(records);
    pending.add(sent);
    sent.then(
      () => pending.delete(sent),
      () => pending.delete(sent),
    );
    if (pending.size >= maxInFlight) await Promise.race(pending);
  };
  for (const reading of readings) {
    const producedAt = Date.now();
    batch.push({ topic, key: reading.key, value: encoder.encode(reading.value), timestamp: producedAt });
    options.onProduced?.({ reading, producedAt });
    count++;
    if (batch.length >= batchSize) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await send(batch);
  await Promise.all(pending);
  return count;
}
