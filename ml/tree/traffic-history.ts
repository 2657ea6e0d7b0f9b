import { SeededRandom } from "./random.ts";
import {
  congestionIndex,
  TRAFFIC_CAPACITY_PER_READING,
  type TrafficWindow,
  trafficFeatures,
} from "./traffic-congestion.ts";

/**
 * Simulated history of 1-minute traffic windows: a seeded data set for the tree benchmarks and
 * tests (no node trains on it). Believable, not real:
 *  - demand follows a daily cycle: low at night, rush-hour peaks 07-09 and 16-19 on weekdays,
 *    a flatter midday hump on weekends at about 60% of weekday demand;
 *  - each of 20 sensors has its own road size (0.5x-1.3x capacity);
 *  - speed falls with demand (a BPR-like curve: speed = free * (1 - 0.75 demand^2)) plus noise;
 *  - 6 readings per window (10 s period), sometimes fewer (dropped readings).
 * Windows start at random minutes of a 28-day span from 2026-01-05 (a Monday), UTC.
 */
export interface TrafficHistory {
  readonly windows: TrafficWindow[];
  readonly features: Float64Array[];
  readonly labels: Float64Array;
}

const SPAN_START = Date.UTC(2026, 0, 5);
const SPAN_MINUTES = 28 * 24 * 60;
const SENSOR_COUNT = 20;

export function generateTrafficHistory(rows: number, seed: number): TrafficHistory {
  const random = new SeededRandom(seed);
  const roadSize = Array.from({ length: SENSOR_COUNT }, () => 0.5 + 0.8 * random.next());
  const windows: TrafficWindow[] = [];
  const features: Float64Array[] = [];
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const sensor = random.nextInt(SENSOR_COUNT);
    const windowStart = SPAN_START + random.nextInt(SPAN_MINUTES) * 60_000;
    const window = simulateWindow(`traffic_${sensor + 1}`, windowStart, roadSize[sensor]!, random);
    windows.push(window);
    features.push(trafficFeatures(window));
    labels[i] = congestionIndex(window.vehicleCountMean, window.avgSpeedMean);
  }
  return { windows, features, labels };
}

/** Demand in [0, ~1.1] at a time of day (hours, fractional) on a weekday or weekend. */
export function trafficDemand(hour: number, weekend: boolean): number {
  const bump = (centre: number, width: number) => Math.exp(-0.5 * ((hour - centre) / width) ** 2);
  const night = 0.06;
  if (weekend) return night + 0.5 * bump(13, 3.5) + 0.1 * bump(20, 2);
  return night + 0.8 * bump(8, 0.8) + 0.75 * bump(17.5, 1.1) + 0.35 * bump(12.5, 3);
}

function simulateWindow(
  sensorId: string,
  windowStart: number,
  roadSize: number,
  random: SeededRandom,
): TrafficWindow {
  const date = new Date(windowStart);
  const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
  const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
  const demand = Math.max(0, trafficDemand(hour, weekend) * (1 + 0.12 * random.nextGaussian()));
  const expectedCount = TRAFFIC_CAPACITY_PER_READING * roadSize * demand;
  const readingCount = random.next() < 0.9 ? 6 : 3 + random.nextInt(3);
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < readingCount; r++) {
    const count = Math.max(
      0,
      Math.round(expectedCount + Math.sqrt(expectedCount + 1) * random.nextGaussian()),
    );
    sum += count;
    min = Math.min(min, count);
    max = Math.max(max, count);
  }
  const load = Math.min(1.2, demand * roadSize);
  const speed = Math.max(3, 80 * (1 - 0.75 * Math.min(1, load) ** 2) + 4 * random.nextGaussian());
  return {
    sensorId,
    windowStart,
    readingCount,
    vehicleCountMean: sum / readingCount,
    vehicleCountMin: min,
    vehicleCountMax: max,
    avgSpeedMean: speed,
  };
}
