import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import {
  type AnomalyDetector,
  type AnomalyInput,
  scoreThenLearn,
} from "../../../ml/anomaly/anomaly-detector.ts";
import { restoreDetector } from "../../../ml/anomaly/detector-factory.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

export interface DetectorScenario {
  readonly make: () => AnomalyDetector;
  /** Values seen before the detector scores anything but 0. */
  readonly warmUp: number;
  readonly normal: (i: number, random: SeededRandom) => AnomalyInput;
  readonly spike: (i: number, random: SeededRandom) => AnomalyInput;
  /** A value of the wrong shape for this detector. */
  readonly wrongShape: AnomalyInput;
  readonly nan: AnomalyInput;
}

const SPIKE_EVERY = 97;

/** Runs a seeded stream with a spike every 97 points after warm-up; returns scores by kind. */
function run(detector: AnomalyDetector, scenario: DetectorScenario, length: number, seed: number) {
  const random = new SeededRandom(seed);
  const normal: number[] = [];
  const spikes: number[] = [];
  for (let i = 0; i < length; i++) {
    const isSpike = i > scenario.warmUp + 100 && i % SPIKE_EVERY === 0;
    const x = isSpike ? scenario.spike(i, random) : scenario.normal(i, random);
    const score = scoreThenLearn(detector, x);
    if (i > scenario.warmUp + 100) (isSpike ? spikes : normal).push(score);
  }
  return { normal: normal.sort((a, b) => a - b), spikes };
}

/** The conformance suite every anomaly detector passes. */
export function anomalyDetectorContract(name: string, scenario: DetectorScenario): void {
  describe(`${name} (anomaly detector contract)`, () => {
    test("scores 0 while warming up and says when it has warmed up", () => {
      const detector = scenario.make();
      const random = new SeededRandom(1);
      for (let i = 0; i < scenario.warmUp; i++) {
        expect(detector.warmedUp).toBe(false);
        expect(scoreThenLearn(detector, scenario.normal(i, random))).toBe(0);
      }
      expect(detector.warmedUp).toBe(true);
    });

    test("scores every injected spike above 0.8", () => {
      const { spikes } = run(scenario.make(), scenario, 3_000, 2);
      expect(spikes.length).toBeGreaterThan(20);
      expect(Math.min(...spikes)).toBeGreaterThan(0.8);
    });

    test("scores normal points low: median below 0.1, 95th percentile below 0.5", () => {
      const { normal } = run(scenario.make(), scenario, 3_000, 3);
      expect(normal[Math.floor(normal.length / 2)]!).toBeLessThan(0.1);
      expect(normal[Math.floor(normal.length * 0.95)]!).toBeLessThan(0.5);
      expect(normal.every((s) => s >= 0 && s <= 1)).toBe(true);
    });

    test("a restored snapshot continues the stream with identical scores", () => {
      const original = scenario.make();
      run(original, scenario, 1_200, 4);
      const restored = restoreDetector(JSON.parse(JSON.stringify(original.snapshot())));
      const a = run(original, scenario, 600, 5);
      const b = run(restored, scenario, 600, 5);
      expect(b).toEqual(a);
    });

    test("NaN input is an OUT_OF_RANGE error that leaves the state untouched", () => {
      const detector = scenario.make();
      const twin = scenario.make();
      run(detector, scenario, 400, 6);
      run(twin, scenario, 400, 6);
      for (const call of [() => detector.score(scenario.nan), () => detector.update(scenario.nan)]) {
        let caught: unknown;
        try {
          call();
        } catch (error) {
          caught = error;
        }
        expect(isPlatformError(caught, "OUT_OF_RANGE")).toBe(true);
      }
      expect(run(detector, scenario, 300, 7)).toEqual(run(twin, scenario, 300, 7));
    });

    test("input of the wrong shape is a FEATURE_MISSING error", () => {
      expect(() => scenario.make().update(scenario.wrongShape)).toThrow(/FEATURE_MISSING/);
    });
  });
}
