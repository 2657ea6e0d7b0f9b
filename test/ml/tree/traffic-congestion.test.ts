import { expect, test } from "bun:test";
import { evaluateRegression } from "../../../ml/tree/regression-metrics.ts";
import {
  congestionIndex,
  TRAFFIC_FEATURE_NAMES,
  type TrafficWindow,
  trafficFeatures,
} from "../../../ml/tree/traffic-congestion.ts";
import { trainTrafficCongestionModel } from "../../../ml/tree/traffic-congestion-training.ts";
import { generateTrafficHistory } from "../../../ml/tree/traffic-history.ts";

const window: TrafficWindow = {
  sensorId: "traffic_1",
  windowStart: Date.UTC(2026, 0, 7, 18, 0), // a Wednesday, 18:00 UTC
  readingCount: 6,
  vehicleCountMean: 40,
  vehicleCountMin: 30,
  vehicleCountMax: 55,
  avgSpeedMean: 35,
};

test("features come out in the documented order with time on the unit circle", () => {
  const f = trafficFeatures(window);
  expect(f.length).toBe(TRAFFIC_FEATURE_NAMES.length);
  expect(Array.from(f.subarray(0, 5))).toEqual([40, 30, 55, 35, 6]);
  expect(f[5]).toBeCloseTo(-1, 12); // 18:00 is three quarters round the day
  expect(f[6]).toBeCloseTo(0, 12);
  expect(f[7]).toBe(2); // Wednesday, Monday = 0
});

test("a UTC offset moves the hour and can move the day", () => {
  const f = trafficFeatures(window, 7 * 60); // 01:00 on Thursday local time
  expect(f[7]).toBe(3);
  expect(f[6]).toBeCloseTo(Math.cos((2 * Math.PI) / 24), 12);
});

const congestionCases: Array<[string, number, number, number]> = [
  ["an empty road", 0, 80, 0],
  ["free flow at full volume", 100, 80, 0],
  ["half volume at half speed", 50, 40, 0.25],
  ["over capacity at a standstill", 150, 0, 1],
  ["faster than free flow", 60, 100, 0],
];
for (const [what, count, speed, expected] of congestionCases) {
  test(`congestion index of ${what} is ${expected}`, () => {
    expect(congestionIndex(count, speed)).toBeCloseTo(expected, 12);
  });
}

test("simulated history has rush hours busier than nights and labels within [0, 1]", () => {
  const history = generateTrafficHistory(3_000, 5);
  const mean = (pick: (hour: number, weekday: boolean) => boolean) => {
    let sum = 0;
    let n = 0;
    history.windows.forEach((w, i) => {
      const date = new Date(w.windowStart);
      const weekday = date.getUTCDay() !== 0 && date.getUTCDay() !== 6;
      if (pick(date.getUTCHours(), weekday)) {
        sum += history.labels[i]!;
        n++;
      }
    });
    return sum / n;
  };
  expect(mean((h, weekday) => weekday && h >= 7 && h < 9)).toBeGreaterThan(3 * mean((h) => h < 5));
  expect(history.labels.every((y) => y >= 0 && y <= 1)).toBe(true);
});

test("the start-up model trains on 5,000 windows in under 2 s with R2 above 0.9", () => {
  const trained = trainTrafficCongestionModel({ rows: 5_000, seed: 1 });
  expect(trained.trainingMillis).toBeLessThan(2_000);
  expect(trained.metrics.r2).toBeGreaterThan(0.9);
  expect(trained.version).toBe(trained.model.version);
  expect(Object.keys(trained.reference)).toEqual([...TRAFFIC_FEATURE_NAMES]);
  expect(trained.reference.avg_speed_mean.length).toBe(2_000);
  const fresh = generateTrafficHistory(500, 99);
  const predicted = trained.model.predictBatch(fresh.features);
  expect(evaluateRegression(fresh.labels, predicted).r2).toBeGreaterThan(0.9);
});

test("the same seed and training time give the same model version", () => {
  const trainedAt = new Date("2026-01-01T00:00:00Z");
  const a = trainTrafficCongestionModel({ rows: 1_000, seed: 3, trainedAt });
  const b = trainTrafficCongestionModel({ rows: 1_000, seed: 3, trainedAt });
  expect(a.version).toBe(b.version);
});
